package throttle

import (
	"fmt"
	"strings"
)

// PowerMTA returns the lane's PowerMTA configuration: a domain macro for
// its domains, a domain block with the lane's limits, and an
// smtp-pattern-list that puts a queue in backoff mode on the lane's
// deferral replies. In backoff a queue runs at a fifth of the rate and
// retries less often, until an hour passes without those replies. Each
// domain stays its own queue (PowerMTA's queue is per domain and VMTA), so
// the limits apply to each.
func PowerMTA(lanes ...Lane) ([]File, error) {
	if err := checkAll(lanes); err != nil {
		return nil, err
	}
	var files []File
	for _, l := range lanes {
		files = append(files, l.powermta())
	}
	return files, nil
}

func (l Lane) powermta() File {
	var b strings.Builder
	b.WriteString(l.header("# "))
	b.WriteString(comment("# ", "Add to /etc/pmta/config (or an included file), then: pmta reload\nRoll back: remove these blocks and pmta reload; pmta set queue --mode=normal <domain>/*\nends a backoff at once."))
	list := l.Name + "-deferrals"
	if len(l.Deferrals) > 0 {
		b.WriteString("\n" + comment("# ", "The lane's deferral replies put its queue in backoff mode."))
		fmt.Fprintf(&b, "<smtp-pattern-list %s>\n", list)
		for _, d := range l.Deferrals {
			b.WriteString(comment("    # ", "e.g. "+d))
			fmt.Fprintf(&b, "    reply /%s/ mode=backoff\n", strings.ReplaceAll(Pattern(d), "/", `\/`))
		}
		b.WriteString("</smtp-pattern-list>\n")
	}
	rate := l.perDestination(l.destinations())
	limits := "The limits apply to each of the lane's domains (each is its own queue)."
	if l.PerHour > 0 && len(l.Domains) > 1 {
		limits += fmt.Sprintf("\nThe lane's %s an hour are split among the %d domains with mail.", messages(l.PerHour), l.destinations())
	}
	b.WriteString("\n" + comment("# ", limits))
	fmt.Fprintf(&b, "domain-macro %s %s\n", l.Name, strings.Join(l.Domains, ","))
	indent := ""
	if l.Source != "" {
		b.WriteString(comment("# ", "Only for mail sent through the virtual MTA "+l.Source+": other streams keep their pace.\nPowerMTA reads a <domain> block inside a <virtual-mta> block as that virtual MTA's. If your\nconfig already defines <virtual-mta "+l.Source+">, paste the <domain> block into it instead."))
		fmt.Fprintf(&b, "<virtual-mta %s>\n", l.Source)
		indent = "    "
	}
	fmt.Fprintf(&b, "%s<domain $%s>\n", indent, l.Name)
	line := func(why, directive string) {
		b.WriteString(comment(indent+"    # ", why))
		b.WriteString(indent + "    " + directive + "\n")
	}
	line(fmt.Sprintf("at most %d connections at once", l.Connections), fmt.Sprintf("max-smtp-out %d", l.Connections))
	line("and one while in backoff", "backoff-max-smtp-out 1")
	if l.MessagesPerConnection > 0 {
		line(fmt.Sprintf("%d messages per connection", l.MessagesPerConnection), fmt.Sprintf("max-msg-per-connection %d", l.MessagesPerConnection))
	}
	if rate > 0 {
		line("at most "+messages(rate)+" an hour", fmt.Sprintf("max-msg-rate %d/h", rate))
		backoff := "a fifth of that while in backoff"
		if rate < 5 {
			backoff = "one an hour while in backoff: the rate is already at PowerMTA's floor"
		}
		line(backoff, fmt.Sprintf("backoff-max-msg-rate %d/h", max(1, rate/5)))
	}
	line("in backoff, retry every 30 minutes rather than hammering", "backoff-retry-after 30m")
	line("leave backoff after an hour without the deferral replies", "backoff-to-normal-after 1h")
	if len(l.Deferrals) > 0 {
		line("back off on the replies above", "smtp-pattern-list "+list)
	}
	fmt.Fprintf(&b, "%s</domain>\n", indent)
	if l.Source != "" {
		b.WriteString("</virtual-mta>\n")
	}
	return File{Name: "powermta/lane_" + l.Name + ".conf", Install: "include in /etc/pmta/config, then pmta reload", Content: b.String()}
}
