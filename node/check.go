package node

import "fmt"

// CheckResult is the outcome of one check of a stopped home.
type CheckResult struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// CheckHome runs the start-up checks of the node's own files on a stopped
// home, and reads every entry of the block and state stores (the start
// reads only a few), so damage anywhere in them shows. The home's lock
// must be held: the check opens the stores.
func CheckHome(home Home) ([]CheckResult, error) {
	if !home.Exists() {
		return nil, home.errNoHome()
	}
	c, err := loadConfig(home)
	if err != nil {
		return nil, err
	}
	key := CheckResult{Name: "validator key", OK: true, Detail: c.PrivValidatorKeyFile()}
	if err := checkValidatorKey(home, c); err != nil {
		key = CheckResult{Name: key.Name, Detail: err.Error()}
	}
	blocks := CheckResult{Name: "block store", OK: true}
	sum, err := checkBlockStore(c, true)
	if err != nil {
		blocks.Detail = err.Error()
		blocks.OK = false
	} else {
		blocks.Detail = blockSummary(sum)
	}
	return []CheckResult{key, blocks}, nil
}

func blockSummary(s BlockStoreSummary) string {
	if s.Height == 0 {
		return "no blocks yet"
	}
	return fmt.Sprintf("blocks %d–%d, consensus state at %d; every entry readable", s.Base, s.Height, s.StateHeight)
}
