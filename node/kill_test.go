package node

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

const killHomeEnv = "PHALA_NODE_TEST_KILL_HOME"

// TestKillHelper is the child process of TestSurvivesKill9: it runs a node
// until it is killed. It does nothing in a normal test run.
func TestKillHelper(t *testing.T) {
	home := os.Getenv(killHomeEnv)
	if home == "" {
		t.Skip("helper process only")
	}
	n := startTest(t, Home(home), &testApp{})
	if err := n.WaitHeight(testCtx(t, 20*time.Second), 3); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("ready %d\n", n.Height())
	// Blocks keep being committed until the parent kills us; the timeout
	// only guards against an orphaned child.
	select {
	case <-n.Done():
	case <-time.After(30 * time.Second):
	}
}

func TestSurvivesKill9(t *testing.T) {
	home := initTestHome(t, `{}`)
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), killHomeEnv+"="+string(home))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	reached := readyHeight(t, bufio.NewScanner(out))
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // the child holds the store locks until it is reaped

	n := startTest(t, home, &testApp{})
	if n.Height() < reached {
		t.Fatalf("after kill -9 the node restarted at height %d, had reached %d", n.Height(), reached)
	}
	if err := n.WaitHeight(testCtx(t, 20*time.Second), n.Height()+2); err != nil {
		t.Fatal(err)
	}
}

func readyHeight(t *testing.T, sc *bufio.Scanner) int64 {
	t.Helper()
	for sc.Scan() {
		if h, ok := strings.CutPrefix(sc.Text(), "ready "); ok {
			v, err := strconv.ParseInt(h, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("helper exited before reporting ready: %v", sc.Err())
	return 0
}
