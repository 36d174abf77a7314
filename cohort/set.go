package cohort

// hashSet is a set of 64-bit hashes in one open-addressed table: 8 bytes
// a slot at a load of at most three quarters, 11 to 21 bytes an address,
// where a Go map takes some 50. Zero stands for an empty slot, so the hash
// 0 is kept aside.
type hashSet struct {
	slots   []uint64
	n       int
	hasZero bool
}

// add puts h in the set and reports whether it was already there.
func (s *hashSet) add(h uint64) bool {
	if h == 0 {
		had := s.hasZero
		s.hasZero = true
		return had
	}
	if 4*(s.n+1) > 3*len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return true
		case 0:
			s.slots[i] = h
			s.n++
			return false
		}
	}
}

func (s *hashSet) grow() {
	old := s.slots
	s.slots = make([]uint64, max(1024, 2*len(old)))
	s.n = 0
	for _, h := range old {
		if h != 0 {
			s.add(h)
		}
	}
}
