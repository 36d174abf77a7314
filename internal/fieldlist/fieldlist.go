// Package fieldlist splits the TXT records of MTA-STS (RFC 8461 §3.1) and
// SMTP TLS Reporting (RFC 8460 §3), which share one grammar: a version
// field ("v=STSv1", "v=TLSRPTv1"), then name=value fields separated by
// ";", white space (WSP, RFC 5234) around each, one delimiter allowed after
// the last. The packages that read each record judge its fields; this one
// knows the grammar they share.
package fieldlist

import "strings"

// Split returns the fields of txt after its version field, each trimmed of
// WSP, without the empty field a trailing delimiter leaves. ok is false
// when txt does not begin with version (white space before it allowed,
// and reported in leadingWSP: senders discard such records).
func Split(txt, version string) (fields []string, leadingWSP, ok bool) {
	all := strings.Split(txt, ";")
	if TrimWSP(all[0]) != version {
		return nil, false, false
	}
	rest := all[1:]
	if n := len(rest); n > 0 && TrimWSP(rest[n-1]) == "" {
		rest = rest[:n-1]
	}
	for _, f := range rest {
		fields = append(fields, TrimWSP(f))
	}
	return fields, !strings.HasPrefix(txt, version), true
}

// ValidName reports whether s is a field name: a letter or digit, then at
// most 31 letters, digits, "_", "-" or "." (sts-ext-name, tlsrpt-ext-name;
// MTA-STS policy keys have the same syntax, RFC 8461 §3.2).
func ValidName(s string) bool {
	if s == "" || len(s) > 32 || !IsAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !IsAlnum(c) && c != '_' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// ValidValue reports whether s is a field value: at least one printable
// ASCII character, none of them space, ";" or "=".
func ValidValue(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == ';' || c == '=' {
			return false
		}
	}
	return true
}

// IsAlnum reports whether c is an ASCII letter or digit.
func IsAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// TrimWSP removes the WSP (space and tab) of RFC 5234 around s.
func TrimWSP(s string) string {
	return strings.Trim(s, " \t")
}
