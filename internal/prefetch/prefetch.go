// Package prefetch asks the processor to bring memory into its cache
// ahead of use, with the x86-64 PREFETCHT0 and arm64 PRFM PLDL1KEEP
// instructions (elsewhere it does nothing). A load the program makes holds
// up the instructions after it until the memory comes; a prefetch does
// not, so a loop that knows the addresses of its next steps can overlap
// their cache misses with its present work.
package prefetch
