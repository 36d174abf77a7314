package verify

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/emersion/go-msgauth/authres"
)

// AuthResults is an Authentication-Results field (RFC 8601) the message
// carries: what a receiving side concluded.
type AuthResults struct {
	// Index is the field's place among the message's
	// Authentication-Results fields, 0 for the topmost.
	Index      int    `json:"index"`
	AuthservID string `json:"authserv_id"`
	// Chosen says why this field is taken as the receiving side's.
	Chosen  string     `json:"chosen"`
	Raw     string     `json:"raw"`
	Methods []ARMethod `json:"methods"`
	// ParseError is set when part of the field could not be read.
	ParseError string `json:"parse_error,omitempty"`

	pos int // the field's place in the header
}

// ARMethod is one result of an Authentication-Results field: "spf=pass
// smtp.mailfrom=example.com".
type ARMethod struct {
	Method string `json:"method"`
	Result string `json:"result"`
	// Props are the ptype.property=value pairs (header.d, smtp.mailfrom,
	// ...), Reason the reason= text, Comment the comments, joined.
	Props   map[string]string `json:"props,omitempty"`
	Reason  string            `json:"reason,omitempty"`
	Comment string            `json:"comment,omitempty"`
}

// name names the field's writer for a reader.
func (ar *AuthResults) name() string {
	if ar.AuthservID == "" {
		return "a receiver that gives no authserv-id"
	}
	return ar.AuthservID
}

// prop returns a property, "" when absent.
func (m ARMethod) prop(name string) string { return m.Props[name] }

// parseAuthResults reads an Authentication-Results value. The resinfo
// parts are split and their comments removed here, since go-msgauth's
// authres neither skips comments (a ";" in one breaks its split) nor
// keeps properties it has no field for (header.s, header.b); authres
// then reads each part's method and result.
func parseAuthResults(value string) AuthResults {
	ar := AuthResults{Raw: value}
	parts := splitResinfo(value)
	if len(parts) == 0 {
		ar.ParseError = "empty"
		return ar
	}
	id, _ := stripComments(parts[0].text)
	if strings.Contains(firstWord(id), "=") {
		// Microsoft 365 writes no authserv-id: the first part is a
		// result already.
		parts = append([]resinfo{{}}, parts...)
	} else {
		ar.AuthservID = strings.ToLower(strings.TrimSuffix(firstWord(id), "."))
	}
	for _, p := range parts[1:] {
		text, comment := stripComments(p.text)
		text = strings.TrimSpace(text)
		if text == "" || strings.EqualFold(text, "none") {
			continue
		}
		_, results, err := authres.Parse("x; " + text)
		if err != nil || len(results) != 1 {
			if ar.ParseError == "" {
				ar.ParseError = fmt.Sprintf("%q: %v", clip(text), err)
			}
			continue
		}
		m := ARMethod{Comment: strings.TrimSpace(comment), Props: map[string]string{}}
		switch r := results[0].(type) {
		case *authres.DKIMResult:
			m.Method, m.Result, m.Reason = "dkim", string(r.Value), r.Reason
		case *authres.SPFResult:
			m.Method, m.Result, m.Reason = "spf", string(r.Value), r.Reason
		case *authres.DMARCResult:
			m.Method, m.Result, m.Reason = "dmarc", string(r.Value), r.Reason
		case *authres.IPRevResult:
			m.Method, m.Result, m.Reason = "iprev", string(r.Value), r.Reason
		case *authres.GenericResult:
			m.Method, m.Result = r.Method, string(r.Value)
		default:
			method, result, _ := strings.Cut(strings.Fields(text)[0], "=")
			m.Method, m.Result = strings.ToLower(method), strings.ToLower(result)
		}
		for _, f := range strings.Fields(text)[1:] {
			if k, v, ok := strings.Cut(f, "="); ok {
				m.Props[strings.ToLower(k)] = strings.Trim(v, `"`)
			}
		}
		if m.Method == "" {
			if ar.ParseError == "" {
				ar.ParseError = fmt.Sprintf("%q: no method name", clip(text))
			}
			continue
		}
		ar.Methods = append(ar.Methods, m)
	}
	return ar
}

// resinfo is one ";"-separated part of a field.
type resinfo struct{ text string }

// splitResinfo splits at the semicolons outside comments and quoted
// strings.
func splitResinfo(s string) []resinfo {
	var out []resinfo
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case c == '"' && depth == 0:
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case c == ';' && depth == 0:
			out = append(out, resinfo{s[start:i]})
			start = i + 1
		}
	}
	return append(out, resinfo{s[start:]})
}

// stripComments returns s without its comments, and the comments.
func stripComments(s string) (text, comments string) {
	var t, c strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '(' {
			comment, next := readComment(s, i)
			if c.Len() > 0 {
				c.WriteString(" ")
			}
			c.WriteString(comment)
			t.WriteByte(' ')
			i = next
			continue
		}
		t.WriteByte(s[i])
		i++
	}
	return t.String(), c.String()
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

// ReceivedSPF is a Received-SPF field (RFC 7208 §9.1): a receiver's SPF
// result and the identities it checked.
type ReceivedSPF struct {
	Result       string `json:"result"`
	ClientIP     string `json:"client_ip,omitempty"`
	EnvelopeFrom string `json:"envelope_from,omitempty"`
	HELO         string `json:"helo,omitempty"`
	Receiver     string `json:"receiver,omitempty"`
	Identity     string `json:"identity,omitempty"`
}

// parseReceivedSPF reads "pass (comment) client-ip=192.0.2.1;
// envelope-from=a@example.com; helo=mail.example.com; ...".
func parseReceivedSPF(value string) ReceivedSPF {
	text, _ := stripComments(value)
	var r ReceivedSPF
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return r
	}
	r.Result = strings.ToLower(fields[0])
	rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text), fields[0]))
	for _, p := range splitResinfo(rest) {
		k, v, ok := strings.Cut(strings.TrimSpace(p.text), "=")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "client-ip":
			r.ClientIP = v
		case "envelope-from":
			r.EnvelopeFrom = v
		case "helo":
			r.HELO = v
		case "receiver":
			r.Receiver = v
		case "identity":
			r.Identity = v
		}
	}
	return r
}

// recordedIP finds the client address the receiving side recorded in an
// Authentication-Results field: a smtp.remote-ip or policy.iprev
// property, or an address in the comment of its spf result ("designates
// 192.0.2.1 as permitted sender", "sender IP is 192.0.2.1").
func (ar *AuthResults) recordedIP() (netip.Addr, string) {
	for _, m := range ar.Methods {
		for _, p := range []string{"smtp.remote-ip", "policy.iprev", "smtp.client-ip"} {
			if ip, ok := parseIPToken(m.prop(p)); ok {
				return ip, fmt.Sprintf("%s=%s in the Authentication-Results of %s", p, ip, ar.name())
			}
		}
	}
	for _, m := range ar.Methods {
		if m.Method != "spf" {
			continue
		}
		for _, w := range commentWords(m.Comment) {
			if ip, ok := parseIPToken(w); ok {
				return ip, fmt.Sprintf("the spf result's comment in the Authentication-Results of %s", ar.name())
			}
		}
	}
	return netip.Addr{}, ""
}
