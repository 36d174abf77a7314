package throttle

import (
	"fmt"
	"strings"
)

// KumoMTA returns the lane's KumoMTA shaping file: per domain the egress
// limits, and automation rules (for the Traffic Shaping Automation
// daemon) that suspend the lane's sending for half an hour when its
// deferral replies come three times within that window. With a Source
// the limits are the source's alone, but the automation is not: TSA has
// no per-source rules, and the file says so. The regular
// expressions are written as TOML literal strings with single
// backslashes, the form that matches.
func KumoMTA(lanes ...Lane) ([]File, error) {
	if err := checkAll(lanes); err != nil {
		return nil, err
	}
	var files []File
	for _, l := range lanes {
		files = append(files, l.kumomta())
	}
	return files, nil
}

func (l Lane) kumomta() File {
	var b strings.Builder
	b.WriteString(l.header("# "))
	path := "/opt/kumomta/etc/policy/lane_" + l.Name + ".toml"
	b.WriteString(comment("# ", "Load it after the default shaping files in both places that read shaping:\n"+
		"  init.lua (kumod):          shaping:setup_with_automation{ extra_files = { '"+path+"' } }\n"+
		"  tsa_init.lua (tsa-daemon): kumo.shaping.load{ '/opt/kumomta/share/policy-extras/shaping.toml', '"+path+"' }\n"+
		"The automation rules act only once tsa-daemon has loaded them.\n"+
		"Check it with: /opt/kumomta/sbin/validate-shaping "+path+"\n"+
		"Roll back: remove the file from both lists; kcli suspend-list and suspend-cancel end a\nsuspension at once."))
	domains, rate := l.Domains, l.perDestination(l.destinations())
	if l.Nexthop != "" {
		// With mx_rollup (KumoMTA's default) a domain's entry applies to its
		// site, the set of its MX hosts, which the lane's domains share: one
		// entry covers them all, and one set of automation rules counts
		// each reply once.
		domains, rate = []string{l.Nexthop}, l.PerHour
		b.WriteString(comment("# ", "The lane's domains share their MX hosts, so KumoMTA rolls them up into one site\n(mx_rollup): the entry for "+l.Nexthop+" applies to "+strings.Join(l.Domains, ", ")+"."))
	} else if len(l.Domains) > 1 {
		why := "Each domain is shaped by its name (mx_rollup = false): some may share MX hosts, and two\nentries rolled up to one site are an error in KumoMTA."
		if l.PerHour > 0 {
			why += fmt.Sprintf("\nThe lane's %s an hour are split among the %d with mail.", messages(l.PerHour), l.destinations())
		}
		b.WriteString(comment("# ", why))
	}
	rollup := len(domains) == 1
	for _, d := range domains {
		l.kumoDomain(&b, d, rate, rollup)
	}
	return File{Name: "kumomta/lane_" + l.Name + ".toml", Install: path + ", listed in init.lua's extra_files and tsa_init.lua's kumo.shaping.load", Content: b.String()}
}

// kumoDomain writes one domain's entry: its limits and automation rules,
// rolled up to its site (its MX set) or, with several entries, shaped by
// the domain's name, as two entries on one site are an error.
func (l Lane) kumoDomain(b *strings.Builder, d string, rate int, rollup bool) {
	fmt.Fprintf(b, "\n[%q]\n", d)
	fmt.Fprintf(b, "mx_rollup = %t\n", rollup)
	if l.Source != "" {
		b.WriteString(comment("# ", "These limits are only for mail sent through the egress source "+l.Source+": other streams\nare not held to them (the automation rules below are another matter)."))
		fmt.Fprintf(b, "\n[%q.sources.%q]\n", d, l.Source)
	}
	b.WriteString(comment("# ", fmt.Sprintf("at most %d connections at once", l.Connections)))
	fmt.Fprintf(b, "connection_limit = %d\n", l.Connections)
	if l.MessagesPerConnection > 0 {
		b.WriteString(comment("# ", fmt.Sprintf("%d messages per connection", l.MessagesPerConnection)))
		fmt.Fprintf(b, "max_deliveries_per_connection = %d\n", l.MessagesPerConnection)
	}
	if rate > 0 {
		b.WriteString(comment("# ", "at most "+messages(rate)+" an hour"))
		fmt.Fprintf(b, "max_message_rate = \"%d/h\"\n", rate)
	}
	if l.Source != "" && len(l.Deferrals) > 0 {
		// TSA matches automation rules by domain, site or provider, and
		// counts and suspends per egress source (source->site): a rule
		// cannot be kept to one source.
		b.WriteString("\n" + comment("# ", "The automation rules below are not scoped to the egress source "+l.Source+": KumoMTA's\n"+
			"TSA reads automation rules by domain, site or provider, never by source. They watch\n"+
			"every egress source's replies to this site, counted per source, and suspend the source\n"+
			"that got them: if transactional mail, on its own source, gets three of these replies\n"+
			"within 30 minutes, TSA suspends its mail to this site for 30 minutes too. To keep\n"+
			"other streams out of that, delete these automation blocks: the limits above still slow\n"+
			"only "+l.Source+", without the automatic pause."))
	}
	for _, r := range l.Deferrals {
		fmt.Fprintf(b, "\n[[%q.automation]]\n", d)
		b.WriteString(comment("# ", "e.g. "+r+"\nThree of these within the duration suspend the site for the duration (TSA counts\nover the duration, whatever the threshold's period says)."))
		fmt.Fprintf(b, "regex = '''%s'''\n", Pattern(r))
		b.WriteString("action = \"Suspend\"\n")
		b.WriteString("trigger = { Threshold = \"3/hr\" }\n")
		b.WriteString("duration = \"30 minutes\"\n")
	}
}
