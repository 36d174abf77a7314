//go:build race

package reportfile

// raceEnabled: in a race-detector build bytes.Buffer.Grow allocates its
// buffer twice (a make, then the append the normal build fuses with it),
// so allocation counts mean nothing there.
const raceEnabled = true
