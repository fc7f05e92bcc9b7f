package runopts

import (
	"io"
	"strings"
	"testing"
)

// TestWallIDIsChecked: --wall takes 1..64 characters of [A-Za-z0-9._-] (a slash would break
// round recovery, a huge id every outbox record); empty means the config's wall.id.
func TestWallIDIsChecked(t *testing.T) {
	for _, tc := range []struct {
		wall string
		ok   bool
	}{
		{"", true},
		{"wall-1", true},
		{"Studio_B.left", true},
		{strings.Repeat("w", 64), true},
		{strings.Repeat("w", 65), false},
		{"a/b", false},
		{"a b", false},
		{"..", false},
		{"wall\n", false},
	} {
		o, err := Parse([]string{"--wall", tc.wall}, io.Discard)
		if (err == nil) != tc.ok {
			t.Fatalf("--wall %q: %v; want ok=%v", tc.wall, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "--wall") {
			t.Fatalf("--wall %q: error %q does not name the flag", tc.wall, err)
		}
		if err == nil && o.Wall != tc.wall {
			t.Fatalf("--wall %q parsed as %q", tc.wall, o.Wall)
		}
	}
}
