package throttle

import (
	"fmt"
	"strings"
)

// KumoMTA returns the lane's KumoMTA shaping file: per domain the egress
// limits, and automation rules (for the Traffic Shaping Automation
// daemon) that suspend the lane's sending for half an hour when its
// deferral replies come three times within that window. The regular
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
	b.WriteString(comment("# ", "Load it after the default shaping files, in shaping.lua's list:\n  shaping:setup_with_automation{ extra_files = { '/opt/kumomta/etc/policy/lane_"+l.Name+".toml' } }\nCheck it with: /opt/kumomta/sbin/validate-shaping /opt/kumomta/etc/policy/lane_"+l.Name+".toml\nRoll back: remove the file from the list; kcli suspend-list and suspend-cancel end a\nsuspension at once."))
	for _, d := range l.Domains {
		fmt.Fprintf(&b, "\n[%q]\n", d)
		if l.Nexthop != "" {
			b.WriteString(comment("# ", "The lane's domains share MX hosts: roll them up into one site, one set of limits."))
			b.WriteString("mx_rollup = true\n")
		}
		if l.Source != "" {
			b.WriteString(comment("# ", "Only for mail sent through the egress source "+l.Source+": other streams keep their pace."))
			fmt.Fprintf(&b, "\n[%q.sources.%q]\n", d, l.Source)
		}
		b.WriteString(comment("# ", fmt.Sprintf("at most %d connections at once", l.Connections)))
		fmt.Fprintf(&b, "connection_limit = %d\n", l.Connections)
		if l.MessagesPerConnection > 0 {
			b.WriteString(comment("# ", fmt.Sprintf("%d messages per connection", l.MessagesPerConnection)))
			fmt.Fprintf(&b, "max_deliveries_per_connection = %d\n", l.MessagesPerConnection)
		}
		if l.PerHour > 0 {
			b.WriteString(comment("# ", fmt.Sprintf("at most %d messages an hour", l.PerHour)))
			fmt.Fprintf(&b, "max_message_rate = \"%d/h\"\n", l.PerHour)
		}
		for _, r := range l.Deferrals {
			fmt.Fprintf(&b, "\n[[%q.automation]]\n", d)
			b.WriteString(comment("# ", "e.g. "+r+"\nThree of these within the duration suspend the site for the duration (TSA counts\nover the duration, whatever the threshold's period says)."))
			fmt.Fprintf(&b, "regex = '''%s'''\n", Pattern(r))
			b.WriteString("action = \"Suspend\"\n")
			b.WriteString("trigger = { Threshold = \"3/hr\" }\n")
			b.WriteString("duration = \"30 minutes\"\n")
		}
	}
	return File{Name: "kumomta/lane_" + l.Name + ".toml", Install: "/opt/kumomta/etc/policy/lane_" + l.Name + ".toml, listed in shaping.lua's extra_files", Content: b.String()}
}
