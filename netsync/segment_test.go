package netsync

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// records encodes the events as a segment.
func records(t testing.TB, evs ...Event) []byte {
	var b []byte
	for i := range evs {
		var err error
		if b, err = appendRecord(b, &evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// TestRecordMarkerIsHowEveryRecordBegins: the resync after damage looks for the start of an
// event's JSON; it must be how every encoded event begins.
func TestRecordMarkerIsHowEveryRecordBegins(t *testing.T) {
	if string(recordMarker) != `{"wall":` {
		t.Fatalf("record marker %q", recordMarker)
	}
	b := records(t, genEvent("w", 1, 1))
	if !bytes.HasPrefix(b[recordHeader:], recordMarker) {
		t.Fatalf("a record's payload %q does not begin with the marker", b[recordHeader:])
	}
}

// TestScanSegmentAtEveryCut: a segment cut or damaged at every byte of its middle record loses
// that record only (cut: the rest is gone too, it is the end), never a record after the damage.
func TestScanSegmentAtEveryCut(t *testing.T) {
	evs := []Event{genEvent("w", 1, 1), genEvent("w", 1, 2), genEvent("w", 1, 3)}
	b := records(t, evs...)
	first := len(records(t, evs[0]))
	second := len(records(t, evs[1]))
	for i := first; i < first+second; i++ {
		// A flipped byte.
		d := append([]byte(nil), b...)
		d[i] ^= 0xff
		recs, dmg := scanSegment(d)
		if len(recs) != 2 || recs[0].ev != evs[0] || recs[1].ev != evs[2] || len(dmg) != 1 || dmg[0].off != int64(first) {
			t.Fatalf("byte %d flipped: records %+v, damage %+v; want events 1 and 3, damage at %d", i, recs, dmg, first)
		}
		// Cut there (a torn write).
		recs, dmg = scanSegment(b[:i])
		if i > first && (len(recs) != 1 || len(dmg) != 1 || dmg[0].end != int64(i)) {
			t.Fatalf("cut at %d: records %+v, damage %+v", i, recs, dmg)
		}
		// Garbage inserted there.
		g := append(append(append([]byte(nil), b[:i]...), "\x01\x00\x00\x00junk"...), b[i:]...)
		recs, _ = scanSegment(g)
		if len(recs) < 2 || recs[len(recs)-1].ev != evs[2] {
			t.Fatalf("garbage at %d: records %+v; the last record must survive", i, recs)
		}
	}
}

// FuzzOutboxSegment reads arbitrary bytes as a segment, alone and between valid records: no
// panic; every record returned checks out (length and CRC) at its offset; and the valid records
// before garbage and after it (a clear resync point) are all returned.
func FuzzOutboxSegment(f *testing.F) {
	good := records(f, genEvent("w", 1, 1), genEvent("w", 2, 7))
	f.Add([]byte{})
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add(append([]byte("\x10\x00\x00\x00garbage"), good...))
	d := append([]byte(nil), good...)
	d[20] ^= 1
	f.Add(d)
	f.Add([]byte("\xff\xff\x00\x00\x00\x00\x00\x00{\"wall\":\"w\"}"))
	before := records(f, genEvent("wall-1", 3, 41), genEvent("wall-1", 3, 42))
	beforeFirst := len(records(f, genEvent("wall-1", 3, 41)))
	after := records(f, genEvent("wall-1", 3, 43), genEvent("wall-1", 4, 1), genEvent("wall-1", 4, 2))
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(b []byte) []record {
			recs, dmg := scanSegment(b)
			for _, r := range recs {
				n := binary.LittleEndian.Uint32(b[r.off:])
				payload := b[r.off+recordHeader : r.off+recordHeader+int64(n)]
				if int(n) != r.n || crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(b[r.off+4:]) {
					t.Fatalf("record at %d returned although its length or CRC does not check", r.off)
				}
			}
			end := int64(0)
			for _, d := range dmg {
				if d.off < end || d.end <= d.off || d.end > int64(len(b)) {
					t.Fatalf("damage %+v out of order or out of the segment (%d bytes)", dmg, len(b))
				}
				end = d.end
			}
			return recs
		}
		check(data)
		// Valid records, the fuzzed bytes as damage, valid records: a clear resync point.
		seg := append(append(append([]byte(nil), before...), data...), after...)
		recs := check(seg)
		if len(recs) < 5 {
			t.Fatalf("%d records around %d bytes of damage; want at least the 5 valid ones", len(recs), len(data))
		}
		if recs[0].off != 0 || recs[0].ev.Seq != 41 || recs[1].off != int64(beforeFirst) || recs[1].ev.Seq != 42 {
			t.Fatalf("the records before the damage were lost: %+v", recs[:2])
		}
		tail := recs[len(recs)-3:]
		for i, seq := range []uint64{43, 1, 2} {
			if tail[i].ev.Seq != seq || tail[i].off < int64(len(before)+len(data)) {
				t.Fatalf("the records after the damage were lost: %+v", tail)
			}
		}
	})
}
