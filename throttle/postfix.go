package throttle

import (
	"fmt"
	"strings"
)

// PostfixMap is where the transport map is installed; main.cf names it.
const PostfixMap = "/etc/postfix/mailtriage_transport"

// Transport is the name of the lane's Postfix transport (master.cf
// service): lane_<name>, so its log lines read postfix/lane_<name>/smtp.
func (l Lane) Transport() string { return "lane_" + l.Name }

// Postfix returns the lane's Postfix configuration: the transport map,
// the master.cf service and the main.cf limits, and the steps to install
// and to roll back. The limits are per destination (the transport's
// nexthop), read by qmgr(8); only greeting-level failures make Postfix slow
// down by itself, so deferrals at RCPT (Apple behind Proofpoint) need
// these limits.
func (l Lane) Postfix() ([]File, error) {
	if err := l.Check(); err != nil {
		return nil, err
	}
	return []File{
		{Name: "postfix/mailtriage_transport", Install: PostfixMap + " (then: postmap " + PostfixMap + ")", Content: l.postfixMap()},
		{Name: "postfix/master.cf.lane_" + l.Name, Install: "append to /etc/postfix/master.cf", Content: l.postfixMaster()},
		{Name: "postfix/main.cf.lane_" + l.Name, Install: "append to /etc/postfix/main.cf", Content: l.postfixMain()},
		{Name: "postfix/INSTALL.lane_" + l.Name, Install: "read it: the commands to install and to roll back", Content: l.postfixSteps()},
	}, nil
}

func (l Lane) header(prefix string) string {
	h := fmt.Sprintf("mailtriage: slow the %s lane (%s) and no other mail.", l.Name, strings.Join(l.Domains, ", "))
	if l.Why != "" {
		h += "\nWhy: " + l.Why
	}
	return comment(prefix, h)
}

func (l Lane) postfixMap() string {
	var b strings.Builder
	b.WriteString(l.header("# "))
	b.WriteString(comment("# ", "Compile with: postmap "+PostfixMap+"\nRoll back: delete these lines (or the file and its transport_maps entry), postmap, postfix reload."))
	if l.Nexthop != "" {
		b.WriteString(comment("# ", "All the lane's domains go to one destination, "+l.Nexthop+", so they share one set of limits:\nright only because they share their MX hosts."))
	} else {
		b.WriteString(comment("# ", "Each domain is its own destination, with its own limits."))
	}
	for _, d := range l.Domains {
		fmt.Fprintf(&b, "%-30s %s:%s\n", d, l.Transport(), l.Nexthop)
	}
	return b.String()
}

func (l Lane) postfixMaster() string {
	var b strings.Builder
	b.WriteString(l.header("# "))
	b.WriteString(comment("# ", "A copy of the smtp client for the lane; its log lines read postfix/"+l.Transport()+"/smtp.\nRoll back: delete these lines, then postfix reload."))
	fmt.Fprintf(&b, "%-10s unix  -       -       -       -       -       smtp\n", l.Transport())
	fmt.Fprintf(&b, "  -o syslog_name=postfix/%s\n", l.Transport())
	switch {
	case l.MessagesPerConnection == 1:
		b.WriteString(comment("  # ", "one message per connection: no connection reuse"))
		b.WriteString("  -o smtp_connection_cache_on_demand=no\n")
	case l.MessagesPerConnection > 1:
		b.WriteString(comment("  # ", fmt.Sprintf("%d messages per connection: the first, then %d reuses", l.MessagesPerConnection, l.MessagesPerConnection-1)))
		fmt.Fprintf(&b, "  -o smtp_connection_reuse_count_limit=%d\n", l.MessagesPerConnection-1)
	}
	return b.String()
}

func (l Lane) postfixMain() string {
	t := l.Transport()
	var b strings.Builder
	b.WriteString(l.header("# "))
	b.WriteString(comment("# ", "Roll back: delete these lines and the lane's master.cf service, restore transport_maps, postfix reload."))
	b.WriteString(comment("# ", "Route the lane's domains to its transport. If main.cf already sets transport_maps, put\nthis map first in that line instead: transport_maps = hash:"+PostfixMap+", <your maps>"))
	fmt.Fprintf(&b, "transport_maps = hash:%s\n", PostfixMap)
	dest := "destination (each domain)"
	if l.Nexthop != "" {
		dest = "destination (" + l.Nexthop + ", all the lane's domains)"
	}
	b.WriteString(comment("# ", fmt.Sprintf("At most %d deliveries at once per %s.", l.Connections, dest)))
	fmt.Fprintf(&b, "%s_destination_concurrency_limit = %d\n", t, l.Connections)
	b.WriteString(comment("# ", "Start at one and let Postfix's slow start climb to the limit."))
	fmt.Fprintf(&b, "%s_initial_destination_concurrency = 1\n", t)
	if l.PerHour > 0 {
		b.WriteString(comment("# ", fmt.Sprintf("At most %d messages an hour per %s: one every %ds. A rate delay makes\nPostfix deliver one message at a time per destination, whatever the concurrency limit.", l.PerHour, dest, rateDelay(l.PerHour))))
		fmt.Fprintf(&b, "%s_destination_rate_delay = %ds\n", t, rateDelay(l.PerHour))
		b.WriteString(comment("# ", "With a rate delay, one failed delivery must not mark the destination dead (the\ndefault, 1, would): Postfix's own advice is 10 or more."))
		fmt.Fprintf(&b, "%s_destination_concurrency_failed_cohort_limit = 100\n", t)
	} else {
		b.WriteString(comment("# ", "Deferrals at RCPT do not count as failed cohorts; greeting failures do. Let a few\nof those pass before the destination is suspended."))
		fmt.Fprintf(&b, "%s_destination_concurrency_failed_cohort_limit = 10\n", t)
	}
	return b.String()
}

func (l Lane) postfixSteps() string {
	return l.header("") + fmt.Sprintf(`
Install:
  cp postfix/mailtriage_transport %[1]s
  postmap %[1]s
  cat postfix/master.cf.lane_%[2]s >> /etc/postfix/master.cf
  cat postfix/main.cf.lane_%[2]s >> /etc/postfix/main.cf    (see the note on transport_maps in it)
  postfix check && postfix reload
  mailq | grep -c lane_%[2]s        (the lane's queue, once mail arrives)

Watch: grep 'postfix/lane_%[2]s/smtp' /var/log/mail.log, or mailtriage analyze on it.

Roll back:
  remove the lines from main.cf and master.cf, and the map from transport_maps
  postfix reload
  postqueue -f                      (deferred lane mail goes out at the normal pace)
`, PostfixMap, l.Name)
}
