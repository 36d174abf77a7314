package dmarcsum

import (
	_ "embed"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/BurntSushi/toml"
)

//go:embed services.toml
var builtinServices []byte

// Service is a sending service, told by its servers' reverse DNS names.
type Service struct {
	Name string `toml:"name"`
	// RDNS are name patterns: "*" stands for any characters, dots
	// included; a pattern without "*" is one name. Case is ignored.
	RDNS []string `toml:"rdns"`
}

// Services names the service behind a reverse DNS name.
type Services struct {
	list []Service
}

// BuiltinServices returns the embedded list (services.toml).
func BuiltinServices() (*Services, error) {
	list, err := ParseServices(builtinServices, "services.toml")
	if err != nil {
		return nil, err
	}
	return &Services{list: list}, nil
}

// ParseServices reads a list in the services.toml format; file names it in
// errors.
func ParseServices(data []byte, file string) ([]Service, error) {
	var f struct {
		Service []Service `toml:"service"`
	}
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%s: unknown key %s (a service has name and rdns)", file, und[0])
	}
	for i := range f.Service {
		s := &f.Service[i]
		s.Name = strings.TrimSpace(s.Name)
		if s.Name == "" {
			return nil, fmt.Errorf("%s: service %d has no name", file, i+1)
		}
		if len(s.RDNS) == 0 {
			return nil, fmt.Errorf("%s: service %q has no rdns patterns", file, s.Name)
		}
		for j, p := range s.RDNS {
			p, err := normPattern(p)
			if err != nil {
				return nil, fmt.Errorf("%s: service %q: %w", file, s.Name, err)
			}
			s.RDNS[j] = p
		}
	}
	return f.Service, nil
}

// With returns the services of user, tried first, then those of s.
func (s *Services) With(user []Service) *Services {
	return &Services{list: append(append([]Service(nil), user...), s.list...)}
}

// Match returns the name of the first service with a pattern matching
// rdns, "" for none.
func (s *Services) Match(rdns string) string {
	if s == nil || rdns == "" {
		return ""
	}
	rdns = normName(rdns)
	for _, svc := range s.list {
		for _, p := range svc.RDNS {
			if matchName(p, rdns) {
				return svc.Name
			}
		}
	}
	return ""
}

// Lookup returns the service's name as the list spells it, matched
// without regard to case.
func (s *Services) Lookup(name string) (string, bool) {
	for _, svc := range s.list {
		if strings.EqualFold(svc.Name, strings.TrimSpace(name)) {
			return svc.Name, true
		}
	}
	return "", false
}

// Names lists the services' names, in order.
func (s *Services) Names() []string {
	out := make([]string, len(s.list))
	for i, svc := range s.list {
		out[i] = svc.Name
	}
	return out
}

// normPattern checks a name pattern and lower-cases it. Only "*" is
// special: brackets and "?" have no business in host names, and refusing
// them keeps a pattern meaning what it looks like.
func normPattern(p string) (string, error) {
	p = normName(p)
	switch {
	case p == "" || p == "*":
		return "", fmt.Errorf("rdns pattern %q matches every name", p)
	case strings.ContainsAny(p, "[]?\\ \t"):
		return "", fmt.Errorf("rdns pattern %q: only letters, digits, '-', '.', '_' and '*' (any characters)", p)
	}
	if _, err := path.Match(p, ""); errors.Is(err, path.ErrBadPattern) {
		return "", fmt.Errorf("rdns pattern %q: %w", p, err)
	}
	return p, nil
}

func normName(s string) string { return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".") }

// matchName matches a lower-case name against a pattern. Most patterns
// are "*.suffix", a suffix test; the rest go to path.Match, whose "*" does
// not cross "/", which host names never hold, so it spans labels.
func matchName(pattern, name string) bool {
	if rest, ok := strings.CutPrefix(pattern, "*"); ok && !strings.Contains(rest, "*") {
		return strings.HasSuffix(name, rest)
	}
	if !strings.Contains(pattern, "*") {
		return pattern == name
	}
	ok, _ := path.Match(pattern, name)
	return ok
}
