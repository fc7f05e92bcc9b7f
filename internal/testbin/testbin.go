// Package testbin builds the project's commands for tests that run them as real processes, the way
// a user's install has them: side by side in one directory.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Cmd is one command to build: its package, as `go build` takes it from the test's directory, and
// whether cgo is on (the headless commands ship with CGO_ENABLED=0, the window needs cgo).
type Cmd struct {
	Pkg string
	CGO bool
}

// Main is a TestMain body: it builds every command into one new temporary directory, sets *dir to
// it, runs the tests, removes the directory and exits with the tests' code. A failed build prints
// the compiler's output and exits 2 before any test runs.
func Main(m *testing.M, dir *string, cmds ...Cmd) {
	d, err := os.MkdirTemp("", "tapwall-testbin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testbin:", err)
		os.Exit(2)
	}
	for _, c := range cmds {
		cmd := exec.Command("go", "build", "-o", d+string(os.PathSeparator), c.Pkg)
		cgo := "CGO_ENABLED=0"
		if c.CGO {
			cgo = "CGO_ENABLED=1"
		}
		cmd.Env = append(os.Environ(), cgo)
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "testbin: go build %s: %v\n%s", c.Pkg, err, out)
			os.RemoveAll(d)
			os.Exit(2)
		}
	}
	*dir = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}
