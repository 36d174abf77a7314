package samplelog

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"testing"
)

// TestShippedSample checks that examples/incident-postfix.log.gz is what
// the generator writes, so the sample and its generator never drift apart.
// Regenerate with: go run ./cmd/genlog | gzip -9 -n > examples/incident-postfix.log.gz
func TestShippedSample(t *testing.T) {
	f, err := os.Open("../examples/incident-postfix.log.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Generate(&b, Default()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shipped, b.Bytes()) {
		t.Fatalf("examples/incident-postfix.log.gz (%d bytes) differs from the generator's output (%d bytes); regenerate it", len(shipped), b.Len())
	}
}

func TestDeterministic(t *testing.T) {
	cfg := Default()
	cfg.Days = 1
	var a, b bytes.Buffer
	if err := Generate(&a, cfg); err != nil {
		t.Fatal(err)
	}
	if err := Generate(&b, cfg); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) || a.Len() == 0 {
		t.Fatal("two runs with the same seed differ, or wrote nothing")
	}
}
