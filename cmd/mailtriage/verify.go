package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync/atomic"

	"github.com/mailtriage/mailtriage/mailbox"
	"github.com/mailtriage/mailtriage/mailhost"
	"github.com/mailtriage/mailtriage/resolver"
	"github.com/mailtriage/mailtriage/verify"
	"github.com/spf13/cobra"
)

type verifyOptions struct {
	dns      dnsOptions
	ip       string
	helo     string
	mailFrom string
	format   string
}

func newVerify(e *env) *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify MESSAGE.eml|-",
		Short: "Verify one received message: DKIM, SPF, DMARC, and what the receiving side concluded",
		Long: `verify checks the authentication of one message as a receiver would: every
DKIM signature (domain, selector, algorithm, key size, result and why), SPF
for the sending address, and DMARC for the From domain (RFC 9989: the policy
by DNS tree walk, p, sp or np, t=y, relaxed or strict alignment). It then
sets its results beside those the receiving side wrote into the message
(its Authentication-Results field: the one whose authserv-id is the host of
the top Received field, or of a field below it down to the hop that took
the message from the Internet, else the topmost) and lists the Received
chain.

Without --ip, SPF is checked for the address the receiving side recorded
(Received-SPF client-ip=, or its Authentication-Results), and the report
says which; when the message records none, SPF is not evaluated and the
Received chain shows the candidates to pass with --ip. The envelope sender
is --mail-from, else Return-Path; --mail-from '<>' is a bounce's null
sender. The HELO name is --helo, else the one the receiving side recorded.

DKIM works on the message's bytes, so a message whose MIME structure is
broken still verifies. A file of LF line ends is read as CRLF. An mbox file
is read for its first message.

--zone answers from zone files instead of live DNS (keys, SPF and DMARC
records not yet published, or as they were); with --offline nothing else
is asked.

Exit status: 0 DMARC passes; 1 the message could not be read, or the
resolver does not reach the public DNS (it answers that even a top-level
domain does not exist); 2 wrong usage; 3 DMARC does not pass (fail, none or temperror) or cannot be told
(unknown: no aligned DKIM pass, and SPF not evaluated for want of the
sending address, which --ip gives).`,
		Example: `  mailtriage verify received.eml
  mailtriage verify received.eml --ip 192.0.2.25 --helo mail.example.com --mail-from bounce@example.com
  mailtriage verify cmd/mailtriage/testdata/verify/signed.eml --zone cmd/mailtriage/testdata/verify/example.test.zone --offline
  mailtriage verify - --format json < received.eml | jq '.dmarc'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("verify takes one MESSAGE file (or - for standard input), got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd, e, o, args[0])
		},
	}
	f := cmd.Flags()
	addDNSFlags(f, &o.dns)
	f.StringVar(&o.ip, "ip", "", "the sending MTA's address (default: the one the receiving side recorded in the message)")
	f.StringVar(&o.helo, "helo", "", "the name the sending MTA gave in HELO/EHLO (default: from the message)")
	f.StringVar(&o.mailFrom, "mail-from", "", "the envelope sender, '<>' for a bounce (default: Return-Path)")
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	return cmd
}

func runVerify(cmd *cobra.Command, e *env, o *verifyOptions, path string) error {
	if o.format != "text" && o.format != "json" {
		return usagef("--format %q: want text or json", o.format)
	}
	opts := verify.Options{HELO: o.helo, MailFrom: strings.TrimSpace(o.mailFrom)}
	if cmd.Flags().Changed("mail-from") && opts.MailFrom == "" {
		opts.MailFrom = "<>"
	}
	if o.ip != "" {
		ip, err := netip.ParseAddr(strings.Trim(strings.TrimSpace(o.ip), "[]"))
		if err != nil {
			return usagef("--ip %q is not an IP address (give the sending MTA's address; its name goes in --helo)", o.ip)
		}
		opts.IP = ip.Unmap()
		if !mailhost.Public(opts.IP) {
			e.log.Warn("--ip is not a public address: receivers on the Internet never see it", "ip", opts.IP)
		}
	}
	if path == "-" && isTerminal(e.stdin) {
		return usagef("'-' reads a message from standard input, which is a terminal")
	}
	var queries atomic.Int64
	live, err := o.dns.resolverFor(e, &queries)
	if err != nil {
		return err
	}
	r := &resolver.NXWatch{Resolver: live}
	opts.Resolver = r
	name, data, err := readOneMessage(e, path)
	if err != nil {
		return &codeError{code: exitError, err: err}
	}
	rep, err := verify.Message(cmd.Context(), data, opts)
	if err != nil {
		return &codeError{code: exitError, err: fmt.Errorf("%s: %w", name, err)}
	}
	if err := blindError(cmd.Context(), r, "verify "+name); err != nil {
		return err
	}
	rep.Message = name
	e.log.Info("verify done", "dns_queries", queries.Load())
	var buf bytes.Buffer
	if o.format == "json" {
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteText(&buf, useColor(e.stdout))
	}
	if err != nil {
		return fmt.Errorf("rendering the report: %w", err)
	}
	if _, err := e.stdout.Write(buf.Bytes()); err != nil {
		return err
	}
	if !rep.Pass() {
		return &codeError{code: exitProblems}
	}
	return nil
}

// maxStdin bounds a message read from standard input.
const maxStdin = 64 << 20

// readOneMessage reads the message at path, or on standard input for
// "-"; of an mbox, the first message, saying so when there are more.
func readOneMessage(e *env, path string) (string, []byte, error) {
	var name string
	var data []byte
	messages := 0
	take := func(n string, d []byte) error {
		if messages++; messages == 1 {
			name, data = n, bytes.Clone(d)
		}
		return nil
	}
	var err error
	if path == "-" {
		var in []byte
		in, err = io.ReadAll(io.LimitReader(e.stdin, maxStdin+1))
		switch {
		case err != nil:
			return "", nil, fmt.Errorf("standard input: %w", err)
		case len(in) > maxStdin:
			return "", nil, fmt.Errorf("standard input: more than %d MB: not one message", maxStdin>>20)
		case bytes.HasPrefix(in, []byte("From ")):
			err = mailbox.Mbox(bytes.NewReader(in), "-", take)
		default:
			name, data = "-", in
		}
	} else {
		err = mailbox.File(path, take)
	}
	if err != nil {
		return "", nil, err
	}
	if messages > 1 {
		e.log.Warn("the input holds several messages; only the first is verified", "input", path, "messages", messages)
	}
	if data == nil {
		return "", nil, fmt.Errorf("%s: no message in it", path)
	}
	return name, data, nil
}
