package ingest

import (
	"bytes"
	"fmt"
	"regexp"

	"github.com/mailtriage/mailtriage/source"
)

// cutAppName matches an RFC 5424 line (section 6: <PRI>1 TIMESTAMP
// HOSTNAME APP-NAME ...) whose APP-NAME is Postfix's syslog name without
// the program: rsyslog's programname ends at the first '/', so its
// syslog-protocol templates write "postfix" for "postfix/smtp" unless
// parser.permitSlashInProgramName is on.
var cutAppName = regexp.MustCompile(`^<\d{1,3}>1 \S+ \S+ postfix[^/ ]* `)

// programCut reports whether the lines of head are RFC 5424 lines of
// Postfix that name no program: none can be told a delivery from a
// queue manager's line.
func programCut(head []byte) bool {
	cut := 0
	for line := range bytes.Lines(head) {
		if !cutAppName.Match(line) {
			return false
		}
		if cut++; cut == 3 {
			break
		}
	}
	return cut > 0
}

// errProgramCut says what programCut found, and how to log the program.
func errProgramCut(in *source.Input) error {
	return fmt.Errorf("%s: syslog-protocol (RFC 5424) lines whose program is cut from Postfix's name (\"postfix\" for postfix/smtp, postfix/qmgr, ...), as rsyslog writes them by default: without the program, a delivery can't be told from other lines; "+
		"set global(parser.permitSlashInProgramName=\"on\") in rsyslog's configuration (rsyslog 8.25 and later), or log mail with its default file format", in.Name)
}
