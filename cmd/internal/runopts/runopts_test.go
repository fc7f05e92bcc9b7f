package runopts

import (
	"io"
	"slices"
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

// TestAllowedHostsAreTrimmed: --control-allowed-host takes a comma-separated list as people type
// it: spaces around a name and empty entries are dropped.
func TestAllowedHostsAreTrimmed(t *testing.T) {
	for _, tc := range []struct {
		flag string
		want []string
	}{
		{"", nil},
		{"desk", []string{"desk"}},
		{"a, b", []string{"a", "b"}},
		{" a ,b:7700,, ", []string{"a", "b:7700"}},
	} {
		o, err := Parse([]string{"--control-allowed-host", tc.flag}, io.Discard)
		if err != nil {
			t.Fatalf("--control-allowed-host %q: %v", tc.flag, err)
		}
		if !slices.Equal(o.AllowedHosts, tc.want) {
			t.Errorf("--control-allowed-host %q parsed as %q, want %q", tc.flag, o.AllowedHosts, tc.want)
		}
	}
}
