//go:build !race

package reportfile

const raceEnabled = false
