package throttle

import (
	"cmp"
	"fmt"
	"strings"
)

// PostfixMap is where the transport map is installed; main.cf names it.
const PostfixMap = "/etc/postfix/mailtriage_transport"

// Transport is the name of the lane's Postfix transport (master.cf
// service): lane_<name>, so its log lines read postfix/lane_<name>/smtp.
func (l Lane) Transport() string { return "lane_" + l.Name }

// Postfix returns the Postfix configuration of the lanes: one transport
// map for them all, a master.cf service and main.cf limits per lane, and
// the steps to install and to roll back. The limits are per destination
// (the transport's nexthop), read by qmgr(8); only greeting-level failures
// make Postfix slow down by itself, so deferrals at RCPT (Apple behind
// Proofpoint) need these limits.
func Postfix(lanes ...Lane) ([]File, error) {
	if err := checkAll(lanes); err != nil {
		return nil, err
	}
	var tmap, master, main strings.Builder
	main.WriteString(comment("# ", "mailtriage: route the slowed lanes to their transports. If main.cf already sets\ntransport_maps, put this map first in that line instead: transport_maps = hash:"+PostfixMap+", <your maps>"))
	fmt.Fprintf(&main, "transport_maps = hash:%s\n", PostfixMap)
	for i, l := range lanes {
		if i > 0 {
			tmap.WriteString("\n")
			master.WriteString("\n")
		}
		main.WriteString("\n")
		tmap.WriteString(l.postfixMap())
		master.WriteString(l.postfixMaster())
		main.WriteString(l.postfixMain())
	}
	return []File{
		{Name: "postfix/mailtriage_transport", Install: PostfixMap + " (then: postmap " + PostfixMap + ")", Content: tmap.String()},
		{Name: "postfix/master.cf.mailtriage", Install: "append to /etc/postfix/master.cf", Content: master.String()},
		{Name: "postfix/main.cf.mailtriage", Install: "append to /etc/postfix/main.cf", Content: main.String()},
		{Name: "postfix/INSTALL", Install: "read it: the commands to install and to roll back", Content: postfixSteps(lanes)},
	}, nil
}

// checkAll checks each lane, and that no two share a name or a domain.
func checkAll(lanes []Lane) error {
	if len(lanes) == 0 {
		return fmt.Errorf("throttle: no lanes")
	}
	names, domains := map[string]bool{}, map[string]string{}
	for _, l := range lanes {
		if err := l.Check(); err != nil {
			return err
		}
		if names[l.Name] {
			return fmt.Errorf("throttle: two lanes named %s", l.Name)
		}
		names[l.Name] = true
		for _, d := range l.Domains {
			if other, ok := domains[d]; ok {
				return fmt.Errorf("throttle: %s is in lanes %s and %s", d, other, l.Name)
			}
			domains[d] = l.Name
		}
	}
	return nil
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
	nexthop := cmp.Or(l.Relayhost, l.Nexthop)
	switch {
	case l.Relayhost != "":
		b.WriteString(comment("# ", "The lane's mail keeps going through the relayhost, "+l.Relayhost+", as one destination\nwith one set of limits."))
	case l.Nexthop != "":
		b.WriteString(comment("# ", "All the lane's domains go to one destination, "+l.Nexthop+", so they share one set of limits:\nright only because they share their MX hosts."))
	default:
		b.WriteString(comment("# ", "Each domain is its own destination, with its own limits. An empty nexthop means the\nrecipient domain's MX, past any relayhost: if this Postfix relays through a smarthost\n(postconf -h relayhost prints one), generate these files again with --relayhost."))
	}
	for _, d := range l.Domains {
		fmt.Fprintf(&b, "%-30s %s:%s\n", d, l.Transport(), nexthop)
	}
	return b.String()
}

// postfixSyslogName is the default syslog_name (Postfix 3.0 and later)
// with the lane appended, so a postmulti instance keeps its own prefix.
const postfixSyslogName = "${multi_instance_name?{$multi_instance_name}:{postfix}}"

func (l Lane) postfixMaster() string {
	var b strings.Builder
	b.WriteString(l.header("# "))
	b.WriteString(comment("# ", "A copy of the smtp client for the lane; its log lines read postfix/"+l.Transport()+"/smtp\n(postfix-out/"+l.Transport()+"/smtp in a postmulti instance named postfix-out). If this\ninstance's main.cf sets syslog_name, put that name in place of the ${...} expression.\nRoll back: delete these lines, then postfix reload."))
	fmt.Fprintf(&b, "%-10s unix  -       -       -       -       -       smtp\n", l.Transport())
	fmt.Fprintf(&b, "  -o syslog_name=%s/%s\n", postfixSyslogName, l.Transport())
	switch {
	case l.PostfixRateDelay() > 2:
		// smtp_connection_cache_time_limit (2s) is shorter than the gap
		// between deliveries, so no connection lives to be reused.
		b.WriteString(comment("  # ", "No messages-per-connection limit: with a rate delay longer than the connection\ncache time (2s), every delivery opens its own connection."))
	case l.MessagesPerConnection == 1:
		b.WriteString(comment("  # ", "one message per connection: no connection reuse"))
		b.WriteString("  -o smtp_connection_cache_on_demand=no\n")
	case l.MessagesPerConnection > 1:
		b.WriteString(comment("  # ", fmt.Sprintf("%d messages per connection: the first, then %d reuses", l.MessagesPerConnection, l.MessagesPerConnection-1)))
		fmt.Fprintf(&b, "  -o smtp_connection_reuse_count_limit=%d\n", l.MessagesPerConnection-1)
	}
	return b.String()
}

// PostfixRateDelay is the gap in seconds Postfix leaves between two
// deliveries to one of the lane's destinations; 0 when the lane has no
// rate. With a rate delay Postfix delivers one message at a time per
// destination, whatever Connections says, and past the connection cache
// time (2s) each delivery opens its own connection.
func (l Lane) PostfixRateDelay() int {
	if l.PerHour <= 0 {
		return 0
	}
	return splitDelay(l.PerHour, l.postfixDestinations())
}

// postfixDestinations is how many destinations share the lane's limits
// under Postfix: one with a shared nexthop or relayhost.
func (l Lane) postfixDestinations() int {
	if l.shared() {
		return 1
	}
	return l.destinations()
}

// postfixRecipientLimit is the most recipients one delivery to the lane
// carries: the least that keeps a destination a domain (1 would make it a
// recipient).
const postfixRecipientLimit = 2

func (l Lane) postfixMain() string {
	t := l.Transport()
	var b strings.Builder
	b.WriteString(l.header("# "))
	if l.Source != "" {
		b.WriteString(comment("# ", "Postfix routes by recipient, not sender: this slows every stream's mail to the lane.\nTo keep "+
			"mail outside the stream "+l.Source+" (transactional mail) at its pace, send it through a second\n"+
			"Postfix instance (postmulti) or relay that does not load this transport map."))
	}
	b.WriteString(comment("# ", "Roll back: delete these lines and the lane's master.cf service, restore transport_maps, postfix reload."))
	dest := "destination (each domain)"
	switch {
	case l.Relayhost != "":
		dest = "destination (the relayhost " + l.Relayhost + ", all the lane's domains)"
	case l.Nexthop != "":
		dest = "destination (" + l.Nexthop + ", all the lane's domains)"
	}
	b.WriteString(comment("# ", fmt.Sprintf("At most %d deliveries at once per %s.", l.Connections, dest)))
	fmt.Fprintf(&b, "%s_destination_concurrency_limit = %d\n", t, l.Connections)
	b.WriteString(comment("# ", "Start at one and let Postfix's slow start climb to the limit."))
	fmt.Fprintf(&b, "%s_initial_destination_concurrency = 1\n", t)
	b.WriteString(comment("# ", fmt.Sprintf("At most %d recipients per delivery (the default is 50): the limits count deliveries,\n"+
		"so a message to many of the lane's recipients would carry them all at once. Bulk\n"+
		"mail with one recipient a message keeps the rate exactly. Never 1: that makes each\n"+
		"recipient its own destination, with its own limits and delay, and slows nothing.", postfixRecipientLimit)))
	fmt.Fprintf(&b, "%s_destination_recipient_limit = %d\n", t, postfixRecipientLimit)
	if l.PerHour > 0 {
		n := l.postfixDestinations()
		delay := splitDelay(l.PerHour, n)
		why := fmt.Sprintf("One message every %ds per %s.", delay, dest)
		if n > 1 {
			why += fmt.Sprintf("\nThe lane's %s an hour split over the %d domains with mail, so that\ntogether they stay under it.", messages(l.PerHour), n)
		}
		why += "\nA rate delay makes Postfix deliver one message at a time per destination,\nwhatever the concurrency limit."
		b.WriteString(comment("# ", why))
		fmt.Fprintf(&b, "%s_destination_rate_delay = %ds\n", t, delay)
		b.WriteString(comment("# ", "With a rate delay, one failed delivery must not mark the destination dead (the\ndefault, 1, would): Postfix's own advice is 10 or more."))
		fmt.Fprintf(&b, "%s_destination_concurrency_failed_cohort_limit = 100\n", t)
	} else {
		b.WriteString(comment("# ", "Deferrals at RCPT do not count as failed cohorts; greeting failures do. Let a few\nof those pass before the destination is suspended."))
		fmt.Fprintf(&b, "%s_destination_concurrency_failed_cohort_limit = 10\n", t)
	}
	return b.String()
}

func postfixSteps(lanes []Lane) string {
	var names, greps, domains []string
	relayhost := ""
	for _, l := range lanes {
		names = append(names, l.Name+" ("+strings.Join(l.Domains, ", ")+")")
		for _, d := range l.Domains {
			// a regular expression in a jq string: \\. is a literal dot
			domains = append(domains, strings.ReplaceAll(d, ".", `\\.`))
		}
		greps = append(greps, l.Transport())
		relayhost = cmp.Or(relayhost, l.Relayhost)
	}
	check := "postconf -h relayhost          (must print nothing: the lane's mail goes to the\n                                    recipients' MX; if it prints a smarthost, generate\n                                    these files again with --relayhost)"
	if relayhost != "" {
		check = "postconf -h relayhost          (must print " + relayhost + ")"
	}
	return fmt.Sprintf(`mailtriage: slow the lanes %[2]s and no other mail.

Where: on every Postfix that sends to these lanes. With several instances on one host
(postmulti -l lists them), install into the instance that carries the slowed mail:
run each command below as postmulti -i INSTANCE -x COMMAND, with that instance's
config directory (postmulti -i INSTANCE -x postconf -h config_directory) in place
of /etc/postfix.

Install:
  %[4]s
  cp postfix/mailtriage_transport %[1]s
  postmap %[1]s
  cat postfix/master.cf.mailtriage >> /etc/postfix/master.cf
  cat postfix/main.cf.mailtriage >> /etc/postfix/main.cf    (see the note on transport_maps in it)
  postfix check && postfix reload

Watch: grep -E '/(%[3]s)/smtp\[' /var/log/mail.log, or mailtriage analyze on it.

Roll back:
  remove the lines from main.cf and master.cf, and the map from transport_maps
  postfix reload
  Do not flush the queue (postqueue -f): the lane's backlog would reach the receiver at
  once, the burst that started the deferrals. Let the queue manager retry it at its
  own pace; for a large backlog hold it and release it in batches:
    postqueue -j | jq -r 'select(any(.recipients[].address; test("@(%[5]s)$"; "i"))) | .queue_id' > held
    postsuper -h - < held
    head -n 500 held | postsuper -H -     (then the next 500, an hour apart)
`, PostfixMap, strings.Join(names, "; "), strings.Join(greps, "|"), check, strings.Join(domains, "|"))
}
