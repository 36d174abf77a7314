package smtpreply

import "strings"

// tags finds the provider tokens in a reply text. Providers put the real
// reason in them; the reply and enhanced codes are often generic. They are
// found whatever their case ("[tss04]", "(s3150)", "rtr:bb" in a log or an
// export that lower-cased the reply) and returned as written; rules compare
// them without regard to case.
//
//	[CS01] [HM08] [HME1] [TSS04] [PH01] [BL21]  Apple, Yahoo (bracketed letters+digits)
//	(S3150) (S775) (AS761) (AS16012609)         Microsoft consumer and EOP
//	AS(508)                                     Microsoft EOP, older form
//	RP-001 SC-002 OU-001 DY-001                 Outlook.com legacy codes
//	OFR006_102                                  Cloudmark (Orange)
//	(DYN:T1) RTR:BB RLY:B1 HVU:B1 CON:B1        AOL legacy codes
func tags(text string) []string {
	var out []string
	add := func(t string) {
		for _, have := range out {
			if have == t {
				return
			}
		}
		out = append(out, t)
	}
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '[':
			if n := bracketTag(text[i:]); n > 0 {
				add(text[i : i+n])
				i += n - 1
			}
		case c == '(':
			if n := parenTag(text[i:]); n > 0 {
				add(text[i : i+n])
				i += n - 1
			}
		// Most letters follow a letter: that test, the cheaper, comes
		// before the word-boundary one.
		case isLetter(c) && (i == 0 || !isLetter(text[i-1]) && !isWordByte(text[i-1])) && mayBeWordTag(text[i:]):
			if n := wordTag(text[i:]); n > 0 {
				add(text[i : i+n])
				i += n - 1
			}
		}
	}
	return out
}

// bracketTag matches "[" 1-4 letters, 1-3 digits "]", or a letters-only
// code ending in a digit such as "[HME1]".
func bracketTag(s string) int {
	i := 1
	for i < len(s) && i <= 4 && isLetter(s[i]) {
		i++
	}
	letters := i - 1
	if letters == 0 {
		return 0
	}
	j := i
	for j < len(s) && j-i < 3 && isDigit(s[j]) {
		j++
	}
	if j == i || j >= len(s) || s[j] != ']' {
		return 0
	}
	return j + 1
}

// parenTag matches Microsoft's "(S3150)", "(AS761)", "(AS16012609)" and AOL's
// "(DYN:T1)".
func parenTag(s string) int {
	switch {
	case hasPrefixFold(s, "(AS"):
		return digitsThenParen(s, 3)
	case hasPrefixFold(s, "(S"):
		return digitsThenParen(s, 2)
	case hasPrefixFold(s, "(DYN:"):
		if j := strings.IndexByte(s, ')'); j > 5 && j < 12 {
			return j + 1
		}
	}
	return 0
}

func digitsThenParen(s string, i int) int {
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j == i || j-i > 10 || j >= len(s) || s[j] != ')' {
		return 0
	}
	return j + 1
}

// mayBeWordTag tells most words of a reply from a wordTag before any
// prefix is compared: every such tag has a non-letter third or fourth
// byte ("AS(", "RP-", "RTR:", "OFR0").
func mayBeWordTag(s string) bool {
	return len(s) >= 4 && (s[2] == '(' || s[2] == '-' || s[3] == ':' || isDigit(s[3]))
}

// wordTag matches tags written as words: "AS(508)", "RP-001", "OFR006_102",
// "RTR:BB".
func wordTag(s string) int {
	if hasPrefixFold(s, "AS(") {
		j := 3
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j > 3 && j < len(s) && s[j] == ')' {
			return j + 1
		}
		return 0
	}
	for _, p := range []string{"RP-", "SC-", "OU-", "DY-"} {
		if hasPrefixFold(s, p) && len(s) >= 6 && isDigit(s[3]) && isDigit(s[4]) && isDigit(s[5]) &&
			(len(s) == 6 || !isWordByte(s[6])) {
			return 6
		}
	}
	if hasPrefixFold(s, "OFR") {
		j := 3
		for j < len(s) && (isDigit(s[j]) || s[j] == '_') {
			j++
		}
		if j > 6 {
			return j
		}
		return 0
	}
	for _, p := range []string{"RTR:", "RLY:", "HVU:", "CON:"} {
		if hasPrefixFold(s, p) && len(s) >= 6 && isLetter(s[4]) && (isLetter(s[5]) || isDigit(s[5])) {
			return 6
		}
	}
	return 0
}

// isLetter reports an ASCII letter of either case: setting the 0x20 bit
// makes a capital lower case, so one range test covers both, a cost that
// counts in a loop over every byte of a reply.
func isLetter(c byte) bool { return c|0x20-'a' < 26 }

// hasPrefixFold is strings.HasPrefix without regard to ASCII case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func isWordByte(c byte) bool {
	return isLetter(c) || isDigit(c) || c == '_' || c == '-' || c == '.'
}

// urls finds http and https links. A link ends at white space, and trailing
// punctuation that closes the sentence or a bracket is not part of it.
func urls(text string) []string {
	var out []string
	for i := 0; i < len(text); {
		j := strings.Index(text[i:], "http")
		if j < 0 {
			break
		}
		start := i + j
		rest := text[start:]
		if !strings.HasPrefix(rest, "http://") && !strings.HasPrefix(rest, "https://") {
			i = start + 4
			continue
		}
		end := start
		for end < len(text) && text[end] != ' ' && text[end] != '"' && text[end] != '<' && text[end] != '>' {
			end++
		}
		u := strings.TrimRight(text[start:end], ".,;:)]'")
		if len(u) > len("https://") {
			out = append(out, u)
		}
		i = end
	}
	return out
}
