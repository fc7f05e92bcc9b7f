package netsync

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// fillOutbox writes evs to a fresh outbox in dir (segments of segBytes), recording journal as the
// round's journal unless it is "", and closes it: every event durable, none acknowledged.
func fillOutbox(t *testing.T, dir string, evs []Event, segBytes int64, journal string) {
	t.Helper()
	ob, err := OpenOutbox(dir, len(evs)+1, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ob.segBytes = segBytes
	if journal != "" {
		if err := ob.SetJournal(evs[0].Wall, evs[0].Round, journal); err != nil {
			t.Fatal(err)
		}
	}
	stop := runOutbox(t, ob)
	for i, e := range evs { // in small commits: segments of a few commits each
		if err := ob.Submit(e); err != nil {
			t.Fatal(err)
		}
		if i%50 == 49 || i == len(evs)-1 {
			waitFor(t, "events durable", 20*time.Second, func() bool { return len(Pending(ob)) == i+1 })
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := ob.Close(); err != nil {
		t.Fatal(err)
	}
}

// segmentRecords returns the outbox's segment files in order and the records of each.
func segmentRecords(t *testing.T, dir string) ([]string, [][]record) {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "seg-*.log"))
	var recs [][]record
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		r, d := scanSegment(b)
		if len(d) > 0 {
			t.Fatalf("%s is damaged before the test damages it: %v", p, d)
		}
		recs = append(recs, r)
	}
	return paths, recs
}

// rewrite replaces a file's content and fsyncs it, as a disk would leave it.
func rewrite(t *testing.T, p string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// A damage changes a segment's bytes and returns the seqs of the events it destroyed and the
// segment and offset the log must name.
type damageFn func(t *testing.T, paths []string, recs [][]record) (lost []uint64, seg string, off int64)

// flipByte flips one byte at offset at inside record i of segment s (i < 0: from the end).
func flipByte(s, i, at int) damageFn {
	return func(t *testing.T, paths []string, recs [][]record) ([]uint64, string, int64) {
		b, _ := os.ReadFile(paths[s])
		j := i
		if j < 0 {
			j += len(recs[s])
		}
		r := recs[s][j]
		b[r.off+int64(at)] ^= 0x5a
		rewrite(t, paths[s], b)
		return []uint64{r.ev.Seq}, paths[s], r.off
	}
}

// insertGarbage inserts bytes before record i of segment s: nothing is lost.
func insertGarbage(s, i int, garbage string) damageFn {
	return func(t *testing.T, paths []string, recs [][]record) ([]uint64, string, int64) {
		b, _ := os.ReadFile(paths[s])
		off := recs[s][i].off
		nb := append(append(append([]byte(nil), b[:off]...), garbage...), b[off:]...)
		rewrite(t, paths[s], nb)
		return nil, paths[s], off
	}
}

// overwrite replaces n bytes from record i of segment s with garbage, destroying several records.
func overwrite(s, i, n int) damageFn {
	return func(t *testing.T, paths []string, recs [][]record) ([]uint64, string, int64) {
		b, _ := os.ReadFile(paths[s])
		off := recs[s][i].off
		for j := 0; j < n; j++ {
			b[off+int64(j)] = byte(j*7 + 1)
		}
		var lost []uint64
		for _, r := range recs[s] {
			if r.off < off+int64(n) && r.off+recordHeader+int64(r.n) > off {
				lost = append(lost, r.ev.Seq)
			}
		}
		rewrite(t, paths[s], b)
		return lost, paths[s], off
	}
}

var damages = []struct {
	name string
	fn   damageFn
}{
	{"flipped payload byte", flipByte(1, 5, recordHeader+20)},
	{"flipped length byte", flipByte(1, 7, 0)},
	{"flipped checksum byte", flipByte(2, 3, 5)},
	{"last record of a segment", flipByte(1, -1, recordHeader+3)},
	{"first record of the first segment", flipByte(0, 0, recordHeader+1)},
	{"inserted garbage", insertGarbage(2, 10, "\x00\x13\x00\x00garbage{\"wall\":\"w\",\"round\":")},
	{"garbage over several records", overwrite(1, 2, 700)},
}

// TestDamagedRecordIsSkippedAndRebuiltFromTheJournal: damage anywhere in any segment loses only
// the damaged record; every later record is kept, and the damaged events are rebuilt byte for
// byte from the round's journal, recorded by SetJournal.
func TestDamagedRecordIsSkippedAndRebuiltFromTheJournal(t *testing.T) {
	for _, tc := range damages {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			journal := filepath.Join(t.TempDir(), "w-r0001.jsonl")
			evs := AdjustRound(t, journal, "w", 1, 300) // 1200 events
			fillOutbox(t, dir, evs, 16<<10, journal)
			paths, recs := segmentRecords(t, dir)
			if len(paths) < 4 {
				t.Fatalf("%d segments: the test needs several", len(paths))
			}
			lost, seg, off := tc.fn(t, paths, recs)
			var lb logBuffer
			ob, err := OpenOutbox(dir, 0, lb.logger())
			if err != nil {
				t.Fatal(err)
			}
			defer ob.Close()
			if !strings.Contains(lb.String(), fmt.Sprintf(`"segment":%q,"offset":%d`, seg, off)) {
				t.Fatalf("the log does not name segment %s offset %d:\n%s", seg, off, lb.String())
			}
			if len(lost) > 0 && !strings.Contains(lb.String(), "rebuilt from the round's journal") {
				t.Fatalf("no rebuild logged:\n%s", lb.String())
			}
			sameEvents(t, Pending(ob), evs)
			if a := ob.Alarms(); len(a) != 0 {
				t.Fatalf("alarms after a full rebuild: %+v", a)
			}
			// The rebuilt events were written: a second open finds them without the journal.
			ob.Close()
			os.Remove(journal)
			ob2, err := OpenOutbox(dir, 0, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			defer ob2.Close()
			sameEvents(t, Pending(ob2), evs)
		})
	}
}

// TestDamagedRecordWithoutJournalRaisesAnAlarm: with no journal, the damaged events are named by
// an alarm (wall, round, seq) and every valid record after them is kept.
func TestDamagedRecordWithoutJournalRaisesAnAlarm(t *testing.T) {
	for _, tc := range damages {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			evs := AdjustRound(t, filepath.Join(t.TempDir(), "j.jsonl"), "w", 1, 300)
			fillOutbox(t, dir, evs, 16<<10, "")
			paths, recs := segmentRecords(t, dir)
			lost, _, _ := tc.fn(t, paths, recs)
			ob, err := OpenOutbox(dir, 0, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			defer ob.Close()
			gone := map[uint64]bool{}
			for _, s := range lost {
				gone[s] = true
			}
			var want []Event
			for _, e := range evs {
				if !gone[e.Seq] {
					want = append(want, e)
				}
			}
			sameEvents(t, Pending(ob), want)
			alarms := ob.Lost()
			if len(lost) == 0 {
				if len(alarms) != 0 {
					t.Fatalf("garbage between whole records lost nothing, yet: %+v", alarms)
				}
				return
			}
			if len(alarms) != 1 {
				t.Fatalf("alarms %+v: want one naming seq %v", alarms, lost)
			}
			a := alarms[0]
			if a.Code != AlarmEventsLost || a.Wall != "w" || a.Round != 1 || a.Seq != lost[0] || a.SeqTo != lost[len(lost)-1] ||
				!strings.Contains(a.Message, fmt.Sprintf("seq %d..%d", lost[0], lost[len(lost)-1])) {
				t.Fatalf("alarm %+v: want wall w round 1 seq %d..%d", a, lost[0], lost[len(lost)-1])
			}
		})
	}
}

func sameEvents(t *testing.T, got, want []Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d events pending, want %d", len(got), len(want))
	}
	for i := range got {
		a, _ := json.Marshal(got[i])
		b, _ := json.Marshal(want[i])
		if string(a) != string(b) {
			t.Fatalf("event %d is\n%s\nwant (byte for byte)\n%s", i, a, b)
		}
	}
}
