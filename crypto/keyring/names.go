package keyring

import "fmt"

// maxNameLen bounds key names; with ".key" they stay far below every
// file system's limit on a file name.
const maxNameLen = 64

// checkName enforces the naming rule: 1 to 64 characters of a-z, A-Z, 0-9,
// '.', '_' and '-', not starting with '.'. The rule is an allow-list so that
// a name can never be a path ("../x", "a/b", "C:x"), a hidden file, or "."
// and "..", whatever the operating system.
func checkName(name string) error {
	if len(name) == 0 || len(name) > maxNameLen || name[0] == '.' {
		return invalidName(name)
	}
	for i := 0; i < len(name); i++ {
		if !nameChar(name[i]) {
			return invalidName(name)
		}
	}
	return nil
}

func nameChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	case c == '.', c == '_', c == '-':
		return true
	}
	return false
}

func invalidName(name string) error {
	if len(name) > 2*maxNameLen {
		name = name[:2*maxNameLen] + "..."
	}
	return fmt.Errorf("%w %q: use 1-%d characters of a-z, A-Z, 0-9, '.', '_', '-', not starting with '.'",
		ErrInvalidName, name, maxNameLen)
}
