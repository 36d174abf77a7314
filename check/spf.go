package check

// SPFSummary is the SPF part of a report.
type SPFSummary struct {
	Record      string `json:"record"`
	Lookups     int    `json:"lookups"`
	VoidLookups int    `json:"void_lookups"`
}
