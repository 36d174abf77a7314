package ingest

import (
	"bytes"
	"fmt"
	"regexp"

	"github.com/mailtriage/mailtriage/source"
	"github.com/mailtriage/mailtriage/syslogstamp"
)

// The journalctl output modes (journalctl(1), --output) that carry no
// line analyze reads, told by their first lines: without them a user who
// exported the wrong mode is told only that the file holds no Postfix line.
var (
	// verbose: "Sat 2026-12-05 08:00:00.123456 UTC [s=…;i=…;b=…;m=…;t=…;x=…]"
	journalVerbose = regexp.MustCompile(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \S+ \[s=`)
	// short-full: "Sat 2026-12-05 08:00:00 UTC host postfix/qmgr[1]: …"
	journalShortFull = regexp.MustCompile(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [A-Za-z+\-0-9]+ \S+ \S+: `)
	// short-delta: "[    5.123456 <    0.000120>] host postfix/qmgr[1]: …",
	// seconds since boot and since the entry before
	journalDelta = regexp.MustCompile(`^\[ *\d+\.\d+ < *\d+\.\d+>\] `)
	// export: "__CURSOR=s=…", "__REALTIME_TIMESTAMP=1795540801123456"
	journalExport = regexp.MustCompile(`(?m)^(__CURSOR|__REALTIME_TIMESTAMP|__MONOTONIC_TIMESTAMP)=`)
	// json-pretty: `{` then `	"__CURSOR" : "s=…",` on lines of their own
	journalPretty = regexp.MustCompile(`(?m)^\s*"(__CURSOR|__REALTIME_TIMESTAMP|MESSAGE)" : `)
	// cat: the message alone, as Postfix wrote it after its tag
	postfixText = regexp.MustCompile(`^(NOQUEUE|[0-9A-F]{6,12}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,17}): (from=<|to=<|removed$|message-id=|client=|uid=\d+ from=<|reject: )`)
)

// journalMode names the journalctl output mode of an input's head when it
// is one analyze does not read, or returns "".
func journalMode(head []byte) string {
	first := firstLine(head)
	switch {
	case syslogstamp.Monotonic(first):
		return "short-monotonic"
	case journalVerbose.Match(first):
		return "verbose"
	case journalShortFull.Match(first):
		return "short-full"
	case journalDelta.Match(first):
		return "short-delta"
	case journalExport.Match(head):
		return "export"
	case bytes.HasPrefix(first, []byte("{")) && journalPretty.Match(head):
		return "json-pretty"
	case catOutput(head):
		return "cat"
	}
	return ""
}

// catOutput reports whether head's lines are Postfix's messages without
// the stamp, host and tag that syslog and the other modes put before them.
func catOutput(head []byte) bool {
	texts := 0
	var c syslogstamp.Clock
	for line := range bytes.Lines(head) {
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			continue
		}
		if _, _, ok := c.Parse(line); ok {
			return false // a line with a stamp: some other file
		}
		if postfixText.Match(line) {
			texts++
		}
	}
	return texts >= 2
}

// errJournalMode says an input is a journalctl export in mode, and what
// to export instead.
func errJournalMode(in *source.Input, mode string) error {
	why, instead := "which mailtriage does not read", "-o short-iso or -o json"
	switch mode {
	case "cat":
		why = "which has the messages without their times, so they cannot be placed in time"
	case "short-monotonic":
		why = "whose stamps are seconds since boot: it has no wall-clock time, so its lines cannot be placed in time"
		instead = "-o short-iso"
	case "short-delta":
		why = "whose stamps are seconds since boot: it has no wall-clock time, so its lines cannot be placed in time"
	case "short-full":
		why = "whose stamps name their zone by an abbreviation (CET, EST), which does not say which zone it is"
	}
	return fmt.Errorf("%s: journalctl -o %s output, %s; export with %s instead (journalctl -u 'postfix*' -o short-iso)", in.Name, mode, why, instead)
}
