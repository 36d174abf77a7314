package check

import (
	"context"
	"fmt"
	"strings"

	"github.com/mailtriage/mailtriage/bimi"
	"github.com/mailtriage/mailtriage/resolver"
)

// BIMISummary is the BIMI part of a report: shown, not scored.
type BIMISummary struct {
	Record   string `json:"record"`
	Logo     string `json:"logo,omitempty"`
	Evidence string `json:"certificate,omitempty"`
}

func checkBIMI(ctx context.Context, r resolver.Resolver, domain string, p *part) *BIMISummary {
	name := bimi.DefaultSelector + "._bimi." + domain
	recs, a := txtWith(ctx, r, name, "v=BIMI1")
	ev := fmt.Sprintf("%s TXT: %s %q", name, a.Status, recs)
	switch {
	case !a.Status.Known():
		p.find("bimi.unknown", fmt.Sprintf("the BIMI record of %s could not be looked up: %v", domain, a.Err), "check again, or with another --resolver", ev)
		return nil
	case len(recs) == 0:
		p.find("bimi.missing", "no BIMI record: mailbox providers that show brand logos show none for "+domain,
			"once DMARC is at quarantine or reject, publish "+name+" TXT \"v=BIMI1; l=https://.../logo.svg; a=https://.../vmc.pem\"", ev)
		return nil
	case len(recs) > 1:
		p.find("bimi.invalid", fmt.Sprintf("%s has %d BIMI records: receivers use none", name, len(recs)), "keep one v=BIMI1 record", ev)
		return &BIMISummary{Record: strings.Join(recs, " | ")}
	}
	sum := &BIMISummary{Record: recs[0]}
	rec, err := bimi.Parse(recs[0])
	if err != nil {
		p.find("bimi.invalid", fmt.Sprintf("the BIMI record is invalid: %v", err), "start the record with v=BIMI1;", ev)
		return sum
	}
	sum.Logo, sum.Evidence = rec.Location, rec.Evidence
	var errs []string
	for _, pr := range rec.Problems {
		if pr.Error {
			errs = append(errs, pr.Message)
		}
	}
	switch {
	case len(errs) > 0:
		p.find("bimi.invalid", "the BIMI record has errors: "+strings.Join(errs, "; "), "l= must be an https URL of an SVG Tiny PS logo, a= an https URL of the mark certificate", ev)
	case rec.Declined:
		p.find("bimi.declined", domain+" declines to show a logo (empty l= and a=)", "", ev)
	case rec.Evidence == "":
		p.find("bimi.no-certificate", "the BIMI record has a logo but no mark certificate (a=): Gmail and Apple Mail show logos only with a VMC or CMC", "obtain a VMC or CMC for the logo and publish its URL in a=", ev)
	}
	return sum
}
