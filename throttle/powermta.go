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
	n := l.destinations()
	rate := splitRate(l.PerHour, n)
	backoff := rate.fifth()
	limits := "The limits apply to each of the lane's domains (each is its own queue)."
	if l.PerHour > 0 && len(l.Domains) > 1 {
		limits += fmt.Sprintf("\nThe lane's rate, %s an hour, is split among the %d domains with mail:\n%s each.", messages(l.PerHour), n, rate.words())
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
	if l.PerHour > 0 {
		line("at most "+rate.words(), "max-msg-rate "+rate.String())
		line("a fifth of that while in backoff", "backoff-max-msg-rate "+backoff.String())
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

// PowerMTAQueueRate says the rate each of the lane's PowerMTA queues
// gets ("1 message every 3 hours"); "" when the lane has no rate.
func (l Lane) PowerMTAQueueRate() string {
	if l.PerHour <= 0 {
		return ""
	}
	return splitRate(l.PerHour, l.destinations()).words()
}

// pmtaRate is a PowerMTA message rate: n messages every hours hours.
type pmtaRate struct{ n, hours int }

// splitRate is each of n queues' share of perHour messages an hour, so
// that together they stay at or under it: whole messages an hour while
// each gets at least one, else perHour every n hours (reduced: 2 every 4
// hours is 1 every 2). PowerMTA has no floor of one an hour: its rates
// take a count of units (1/20m, 1/3h).
func splitRate(perHour, n int) pmtaRate {
	n = max(1, n)
	if perHour >= n {
		return pmtaRate{perHour / n, 1}
	}
	g := gcd(perHour, n)
	return pmtaRate{perHour / g, n / g}
}

// fifth is a fifth of the rate, the backoff rate: whole messages an hour
// while that leaves at least one, else the rate over five times the hours.
func (r pmtaRate) fifth() pmtaRate {
	if r.hours == 1 && r.n >= 5 {
		return pmtaRate{r.n / 5, 1}
	}
	g := gcd(r.n, 5*r.hours)
	return pmtaRate{r.n / g, 5 * r.hours / g}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// String is the rate as max-msg-rate takes it: "100/h", or "1/3h" (a
// count of units, as in 1/20m) when a queue gets less than one an hour.
func (r pmtaRate) String() string {
	if r.hours == 1 {
		return fmt.Sprintf("%d/h", r.n)
	}
	return fmt.Sprintf("%d/%dh", r.n, r.hours)
}

// words says the rate: "100 messages an hour", "1 message every 3 hours".
func (r pmtaRate) words() string {
	if r.hours == 1 {
		return messages(r.n) + " an hour"
	}
	return fmt.Sprintf("%s every %d hours", messages(r.n), r.hours)
}
