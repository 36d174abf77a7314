package main

import (
	"os"
	"testing"
)

// TestNoColor: NO_COLOR turns colours off when it is set to a non-empty
// value, whatever the value; set but empty, it is as if unset
// (https://no-color.org: "when present and not an empty string").
func TestNoColor(t *testing.T) {
	for _, tt := range []struct {
		value string
		set   bool
		want  bool
	}{
		{"", false, false},
		{"", true, false},
		{"1", true, true},
		{"0", true, true},
		{"false", true, true},
	} {
		t.Setenv("NO_COLOR", tt.value) // restored after the test
		if !tt.set {
			os.Unsetenv("NO_COLOR")
		}
		if got := noColor(); got != tt.want {
			t.Errorf("NO_COLOR=%q (set %v): noColor() = %v, want %v", tt.value, tt.set, got, tt.want)
		}
	}
}
