// Package lifecycletest holds the stand-ins the readers' tests give the
// lifecycle tracker: lanes named by domain, and a classifier that names a
// reply by its codes, so expected events read as plain strings.
package lifecycletest

import (
	"fmt"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/smtpreply"
)

// Lanes puts every recipient domain in a lane of its own name.
type Lanes struct{}

func (Lanes) Lane(domain, relay string) string { return domain }

// Codes gives each reply the rule "code/enhanced" ("421/4.7.0").
type Codes struct{}

func (Codes) Classify(d smtpreply.Detail) mailtriage.Verdict {
	return mailtriage.Verdict{Rule: fmt.Sprintf("%d/%s", d.Reply.Code, d.Reply.Enhanced)}
}
