package analysis

import (
	"time"

	"github.com/mailtriage/mailtriage"
)

// Result is the report of one analysis. Its JSON field names are a
// contract with scripts: add fields, don't rename them.
type Result struct {
	// Inputs and TimeZone are filled in by the caller that read the inputs.
	Inputs   []Input `json:"inputs"`
	TimeZone string  `json:"time_zone"`
	Since    string  `json:"since,omitempty"`
	Until    string  `json:"until,omitempty"`

	Summary   Summary              `json:"summary"`
	Lanes     []LaneStats          `json:"lanes"`
	Hourly    []HourStats          `json:"hourly"`
	Expired   []ExpiredGroup       `json:"expired"`
	Responses []Response           `json:"responses"`
	Providers []ProviderStats      `json:"providers"`
	Streams   []StreamStats        `json:"streams"`
	Relays    []RelayStats         `json:"relays"`
	Hosts     []HostStats          `json:"hosts"`
	Domains   []DomainStats        `json:"failing_domains"`
	Incidents []Incident           `json:"incidents"`
	Findings  []mailtriage.Finding `json:"findings"`
	// ExpiredRecipients and PendingRecipients name the recipients that
	// timed out in the queue or were still queued at the end (at most a
	// thousand of each), for the evidence pack.
	ExpiredRecipients []RecipientOutcome `json:"expired_recipients"`
	PendingRecipients []RecipientOutcome `json:"pending_recipients"`
	// HardBounces are the recipients whose bounce says the address will
	// never take mail (user unknown, host unknown, moved, disabled), at
	// most 100,000, for suppression.
	HardBounces []string `json:"hard_bounces"`
	// Blocklists are the sending addresses' listings, with analyze
	// --blocklists.
	Blocklists []SenderListing `json:"blocklists,omitempty"`
}

// RecipientOutcome is one recipient's end, with its root cause.
type RecipientOutcome struct {
	Time time.Time `json:"time"`
	// Source is the format that logged it; a Host equal to it is the
	// source's name for a host its log never names (Exim, PowerMTA).
	Source    string    `json:"source,omitempty"`
	Host      string    `json:"host"`
	QueueID   string    `json:"queue_id"`
	MessageID string    `json:"message_id,omitempty"`
	Sender    string    `json:"sender"`
	Recipient string    `json:"recipient"`
	Lane      string    `json:"lane"`
	Attempts  int       `json:"attempts"`
	Queued    time.Time `json:"queued,omitzero"`
	LastReply string    `json:"last_reply"`
	Rule      string    `json:"rule"`
}

// HostStats counts the attempts of one sending host (the sending address
// or pool when the source names it, else the host that logged them), in
// all and per lane.
type HostStats struct {
	Host string `json:"host"`
	// Name is the source's name for the sending address Host (KumoMTA's
	// egress source, PowerMTA's VirtualMTA), when it logs both.
	Name string `json:"name,omitempty"`
	// NotLogged says the log named neither a sending host nor an
	// address: Host is the source's name ("exim", "powermta").
	NotLogged bool `json:"not_logged,omitempty"`
	Counts
	DeferralRate float64    `json:"deferral_rate"`
	Lanes        []HostLane `json:"lanes"`
}

// Label names the host for people: "203.0.113.25 (bulk-ip)", the host
// alone, or "(host not logged: exim)" for the attempts of a log that
// names none, whose Host is only the source's name.
func (h HostStats) Label() string {
	switch {
	case h.NotLogged:
		return "(host not logged: " + h.Host + ")"
	case h.Name == "":
		return h.Host
	}
	return h.Host + " (" + h.Name + ")"
}

// HostLane counts one sending host's attempts in one lane.
type HostLane struct {
	Lane string `json:"lane"`
	Counts
	DeferralRate float64 `json:"deferral_rate"`
}

// DomainStats names a recipient domain that accepted nothing.
type DomainStats struct {
	Domain string `json:"domain"`
	Lane   string `json:"lane"`
	Counts
	Reply Response `json:"dominant_reply"`
	// Recipients, Pending and Expired count its recipients' outcomes:
	// the mail still queued at the end, and the mail the queue gave up.
	Recipients int `json:"recipients"`
	Pending    int `json:"pending"`
	Expired    int `json:"expired"`
	// FirstFailure and LastFailure are its first and last failed attempt.
	FirstFailure time.Time `json:"first_failure"`
	LastFailure  time.Time `json:"last_failure"`
}

// Input describes one input file as it was read.
type Input struct {
	Name         string `json:"name"`
	Format       string `json:"format"`
	Bytes        int64  `json:"bytes"`
	Lines        int64  `json:"lines"`
	MatchedLines int64  `json:"matched_lines"`
	OtherLines   int64  `json:"other_lines"`
	Unparsed     int64  `json:"unparsed_lines"`
	Overlong     int64  `json:"overlong_lines"`
	// Zoneless counts the lines whose stamps had no zone, read in the
	// report's TimeZone; Year is the year given to those that had no
	// year either (traditional syslog).
	Zoneless int64     `json:"zoneless_lines"`
	Year     int       `json:"year,omitempty"`
	First    time.Time `json:"first,omitzero"`
	Last     time.Time `json:"last,omitzero"`
	Error    string    `json:"error,omitempty"`
	// Limits say what the input's source cannot show (an ESP that
	// reports no deferrals, an accounting file without them).
	Limits []string `json:"limits,omitempty"`
}

// Summary counts the whole input.
type Summary struct {
	Messages      int `json:"messages"`
	Notifications int `json:"notifications"`
	Recipients    int `json:"recipients"`
	Delivered     int `json:"delivered"`
	Bounced       int `json:"bounced"`
	Expired       int `json:"expired"`
	Pending       int `json:"pending"`
	// PendingUnnamed counts recipients of messages still queued at the
	// end that no line named: the MTA counted them (Postfix's nrcpt=) and
	// had not tried them yet. They are not among Recipients, and have no
	// lane.
	PendingUnnamed int `json:"pending_unnamed,omitempty"`
	Deleted        int `json:"deleted"`
	// Discarded counts recipients dropped on the sending host (see
	// mailtriage.Discarded): not delivered, though the MTA says sent.
	Discarded      int     `json:"discarded"`
	Attempts       int     `json:"attempts"`
	Deferrals      int     `json:"deferrals"`
	DeferralRate   float64 `json:"deferral_rate"`
	LocalDeferrals int     `json:"local_deferrals"`
	// Complaints are feedback reports and ESP complaint events.
	Complaints    int   `json:"complaints,omitempty"`
	UnparsedLines int64 `json:"unparsed_lines"`
}

// LaneStats counts one lane.
type LaneStats struct {
	Lane           string  `json:"lane"`
	Attempts       int     `json:"attempts"`
	Delivered      int     `json:"delivered"`
	Deferrals      int     `json:"deferrals"`
	Bounces        int     `json:"bounces"`
	DeferralRate   float64 `json:"deferral_rate"`
	Recipients     int     `json:"recipients"`
	Expired        int     `json:"expired"`
	Pending        int     `json:"pending"`
	LocalDeferrals int     `json:"local_deferrals"`
	Complaints     int     `json:"complaints,omitempty"`
	// Domains are the lane's busiest recipient domains, for people.
	Domains []string `json:"domains"`
	// Sites are all its domains (up to 5,000), most recipients first,
	// each with where its mail went: what a throttle must route.
	Sites []DomainSite `json:"sites,omitempty"`
}

// DomainSite is one recipient domain of a lane and the site that answered
// for it: the registered domain of its MX host ("" when none answered).
type DomainSite struct {
	Domain     string `json:"domain"`
	Recipients int    `json:"recipients"`
	Site       string `json:"site,omitempty"`
}

// HourStats counts one lane in one hour.
type HourStats struct {
	Lane         string    `json:"lane"`
	Hour         time.Time `json:"hour"`
	Attempts     int       `json:"attempts"`
	Delivered    int       `json:"delivered"`
	Deferrals    int       `json:"deferrals"`
	Bounces      int       `json:"bounces"`
	DeferralRate float64   `json:"deferral_rate"`
}

// LastReply is the root cause of a queue timeout.
type LastReply struct {
	Code     int              `json:"code"`
	Enhanced string           `json:"enhanced"`
	Text     string           `json:"text"`
	Class    mailtriage.Class `json:"class"`
	Reason   string           `json:"reason"`
	Category string           `json:"category"`
	Provider string           `json:"provider"`
	Filter   string           `json:"filter"`
	Rule     string           `json:"rule"`
	Action   string           `json:"action"`
}

// ExpiredGroup counts recipients that timed out in the queue with the same
// root cause.
type ExpiredGroup struct {
	Count     int       `json:"count"`
	LastReply LastReply `json:"last_reply"`
	Lanes     []string  `json:"lanes"`
}

// Response counts the failed attempts that got the same kind of answer:
// in the responses list, over the whole analysis (Lanes, First and Last
// too); as an incident's dominant reply, over the incident (see Incident).
type Response struct {
	Count    int              `json:"count"`
	Code     int              `json:"code"`
	Enhanced string           `json:"enhanced"`
	Class    mailtriage.Class `json:"class"`
	Reason   string           `json:"reason"`
	Category string           `json:"category"`
	Provider string           `json:"provider"`
	Filter   string           `json:"filter"`
	Rule     string           `json:"rule"`
	Action   string           `json:"action"`
	Owner    mailtriage.Owner `json:"owner"`
	Ref      string           `json:"ref,omitempty"`
	Example  string           `json:"example"`
	Lanes    []string         `json:"lanes"`
	First    time.Time        `json:"first"`
	Last     time.Time        `json:"last"`
}

// ProviderStats counts attempts by who answered. Filter is the filter its
// replies named most; Filters all of them.
type ProviderStats struct {
	Provider string   `json:"provider"`
	Filter   string   `json:"filter"`
	Filters  []string `json:"filters"`
	Counts
	DeferralRate float64 `json:"deferral_rate"`
}

// StreamStats counts one stream of mail: one envelope sender or domain.
type StreamStats struct {
	Stream     string `json:"stream"`
	Messages   int    `json:"messages"`
	Recipients int    `json:"recipients"`
	Counts
	Expired      int      `json:"expired"`
	Bounced      int      `json:"bounced"`
	Complaints   int      `json:"complaints,omitempty"`
	DeferralRate float64  `json:"deferral_rate"`
	Lanes        []string `json:"lanes"`
}

// RelayStats counts attempts to one remote server.
type RelayStats struct {
	Relay    string `json:"relay"`
	IP       string `json:"ip"`
	Provider string `json:"provider"`
	Filter   string `json:"filter"`
	Lane     string `json:"lane"`
	Counts
	DeferralRate float64 `json:"deferral_rate"`
}

// Incident is a span of hours in which a lane's deferral rate rose well
// above its own baseline.
type Incident struct {
	Lane         string    `json:"lane"`
	Start        time.Time `json:"start"`
	End          time.Time `json:"end"` // the end of the last hour
	Attempts     int       `json:"attempts"`
	Deferrals    int       `json:"deferrals"`
	DeferralRate float64   `json:"deferral_rate"`
	PeakRate     float64   `json:"peak_rate"`
	Baseline     float64   `json:"baseline"`
	// Reply is the reply that deferred the lane most in the incident. Its
	// verdict (code, class, reason, rule, action...) is its group's; its
	// count, first, last, lanes and example are the incident's own: its
	// deferrals in this lane in these hours.
	Reply Response `json:"dominant_reply"`
}

// Span is the period the analysis covers: from the first to the last
// stamp of its inputs, narrowed to the --since/--until window when one was
// given (analyze's report heads with the inputs' span and states the
// window after it). A queue timeout logged days
// after the lane's last attempt is inside it. A saved analysis that
// names no input's stamps falls back to the hours that had attempts.
func (r *Result) Span() (from, to time.Time) {
	for _, in := range r.Inputs {
		if !in.First.IsZero() && (from.IsZero() || in.First.Before(from)) {
			from = in.First
		}
		if in.Last.After(to) {
			to = in.Last
		}
	}
	if from.IsZero() {
		for _, h := range r.Hourly {
			if from.IsZero() || h.Hour.Before(from) {
				from = h.Hour
			}
			if end := h.Hour.Add(time.Hour); end.After(to) {
				to = end
			}
		}
		return from, to
	}
	if since, err := time.Parse(time.RFC3339, r.Since); err == nil && since.After(from) {
		from = since
	}
	if until, err := time.Parse(time.RFC3339, r.Until); err == nil && until.Before(to) {
		to = until
	}
	return from.UTC(), to.UTC()
}
