// Package sampleresult gives tests the analysis of the shipped sample log,
// as the CLI's golden file holds it (cmd/mailtriage/testdata/sample.json):
// Apple deferred behind Proofpoint, Yahoo TSS04, milder Gmail.
package sampleresult

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/mailtriage/mailtriage/analysis"
)

// Load reads the sample's analysis.
func Load(t testing.TB) *analysis.Result {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(here), "..", "..", "cmd", "mailtriage", "testdata", "sample.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r analysis.Result
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}
