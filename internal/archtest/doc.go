// Package archtest checks the dependency direction of DESIGN section 8: which
// of our packages may import which. It holds tests only.
package archtest
