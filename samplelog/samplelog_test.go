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

// TestTruthAddsUp: the truth's lanes add up to its whole, its hours to its
// lanes, and every recipient ended once.
func TestTruthAddsUp(t *testing.T) {
	cfg := Default()
	cfg.Days = 2
	truth, err := GenerateTruth(io.Discard, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var lanes Tally
	for _, l := range truth.Lanes {
		a, o := l.Attempts, l.Outcomes
		lanes.Attempts.Total += a.Total
		lanes.Attempts.Delivered += a.Delivered
		lanes.Attempts.Deferred += a.Deferred
		lanes.Attempts.Bounced += a.Bounced
		lanes.LocalDeferrals += l.LocalDeferrals
		lanes.Outcomes.Recipients += o.Recipients
		lanes.Outcomes.Delivered += o.Delivered
		lanes.Outcomes.Bounced += o.Bounced
		lanes.Outcomes.Expired += o.Expired
		lanes.Outcomes.Pending += o.Pending
	}
	if lanes != truth.Tally {
		t.Errorf("the lanes add up to %+v, the whole is %+v", lanes, truth.Tally)
	}
	hours := map[string]Attempts{}
	for k, h := range truth.Hours {
		a := hours[k.Lane]
		a.Total += h.Total
		a.Delivered += h.Delivered
		a.Deferred += h.Deferred
		a.Bounced += h.Bounced
		hours[k.Lane] = a
	}
	for name, l := range truth.Lanes {
		if hours[name] != l.Attempts {
			t.Errorf("%s: the hours add up to %+v, the lane is %+v", name, hours[name], l.Attempts)
		}
	}
	o := truth.Outcomes
	if o.Pending < 0 || o.Delivered+o.Bounced+o.Expired+o.Pending != o.Recipients || o.Delivered == 0 || o.Expired == 0 {
		t.Errorf("outcomes %+v", o)
	}
}

// TestPflogsummReadable: the log pflogsumm 1.1.5 reads in full is the
// same log, line for line, with mta2's syslog name "postfix" and no tls=
// field in its delivery lines.
func TestPflogsummReadable(t *testing.T) {
	cfg := Default()
	cfg.Days = 1
	var plain, readable bytes.Buffer
	if err := Generate(&plain, cfg); err != nil {
		t.Fatal(err)
	}
	cfg.PflogsummReadable = true
	if err := Generate(&readable, cfg); err != nil {
		t.Fatal(err)
	}
	want := bytes.ReplaceAll(plain.Bytes(), []byte(" postfix-mkt/"), []byte(" postfix/"))
	want = bytes.ReplaceAll(want, []byte(", tls=may"), nil)
	if bytes.Equal(want, plain.Bytes()) {
		t.Fatal("the sample has neither postfix-mkt nor tls= to take out")
	}
	if !bytes.Equal(readable.Bytes(), want) {
		t.Error("the pflogsumm-readable log is not the sample without postfix-mkt and tls=")
	}
}
