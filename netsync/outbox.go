package netsync

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"tapwall/internal/durable"
)

// Outbox defaults.
const (
	// DefaultQueue is how many events the game loop may hand over before Submit refuses: minutes of
	// the busiest round at one fsync per batch, so it fills only if the disk stops.
	DefaultQueue = 1 << 16
	// SegmentBytes is the size at which the outbox starts a new segment file; a segment whose
	// events are all acknowledged is deleted.
	SegmentBytes = 4 << 20
	// maxBatch bounds one group commit.
	maxBatch = 4096
	// ackedSaveEvery is how often the acknowledged positions are saved: an ack lost in a crash only
	// means a resend, which the backend drops as a duplicate.
	ackedSaveEvery = 200 * time.Millisecond
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// pending is an event on disk, not yet acknowledged.
type pending struct {
	Event
	n     uint64    // local append order
	seg   int       // segment index
	added time.Time // when it became durable, for the oldest-unacked age
}

type segment struct {
	idx   int
	path  string
	count int // events in it not yet acknowledged
}

// Outbox is the durable queue of score events between the game and the backend: every event is
// appended to a segment file and fsynced (many events per fsync under load) before the client may
// send it; acknowledged events are trimmed; on open, what was not acknowledged before a crash is
// pending again, and a torn tail (a write cut by the crash) is detected by its checksum, cut and
// logged. Submit never blocks; Run does the writing on its own goroutine. Safe for concurrent use.
type Outbox struct {
	dir    string
	log    zerolog.Logger
	in     chan Event
	notify chan struct{}

	mu       sync.Mutex
	f        *os.File
	segs     []segment
	size     int64
	pend     []pending
	acked    map[string]uint64 // "wall/round" -> seq
	next     uint64
	dirty    bool
	lastSave time.Time
	cut      int   // bytes cut from torn tails at open
	queued   int64 // submitted, not yet durable (under mu)
	fsyncs   int64 // group commits done
	segBytes int64 // SegmentBytes; smaller in tests
}

// OpenOutbox opens (creating) the outbox in dir and recovers what is pending. queue is the
// capacity of Submit's queue (0: DefaultQueue).
func OpenOutbox(dir string, queue int, log zerolog.Logger) (*Outbox, error) {
	if queue <= 0 {
		queue = DefaultQueue
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("netsync: outbox: %w", err)
	}
	o := &Outbox{dir: dir, log: log, in: make(chan Event, queue), notify: make(chan struct{}, 1), acked: map[string]uint64{},
		segBytes: SegmentBytes}
	if err := o.loadAcked(); err != nil {
		return nil, err
	}
	if err := o.recover(); err != nil {
		return nil, err
	}
	return o, nil
}

func ackKey(wall string, round uint32) string { return fmt.Sprintf("%s/%d", wall, round) }

func (o *Outbox) loadAcked() error {
	b, err := os.ReadFile(filepath.Join(o.dir, "acked.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err == nil {
		err = json.Unmarshal(b, &o.acked)
	}
	if err != nil {
		// Losing the acked positions only means resending what the backend already has.
		o.log.Warn().Err(err).Msg("outbox acked.json unreadable: everything on disk will be resent")
		o.acked = map[string]uint64{}
	}
	return nil
}

func (o *Outbox) recover() error {
	paths, err := filepath.Glob(filepath.Join(o.dir, "seg-*.log"))
	if err != nil {
		return fmt.Errorf("netsync: outbox: %w", err)
	}
	sort.Strings(paths)
	for _, p := range paths {
		var idx int
		if _, err := fmt.Sscanf(filepath.Base(p), "seg-%08d.log", &idx); err != nil {
			continue
		}
		evs, good, size, err := readSegment(p)
		if err != nil {
			return err
		}
		if good < size {
			o.log.Error().Str("segment", p).Int64("offset", good).Int64("cut_bytes", size-good).
				Msg("outbox: torn or corrupt tail cut (a write interrupted by a crash)")
			if err := os.Truncate(p, good); err != nil {
				return fmt.Errorf("netsync: outbox: cut torn tail of %s: %w", p, err)
			}
			o.cut += int(size - good)
		}
		seg := segment{idx: idx, path: p}
		for _, e := range evs {
			if e.Seq <= o.acked[ackKey(e.Wall, e.Round)] {
				continue
			}
			o.next++
			o.pend = append(o.pend, pending{Event: e, n: o.next, seg: idx, added: time.Now()})
			seg.count++
		}
		o.segs = append(o.segs, seg)
		o.size = good
	}
	o.trimSegments()
	next := 0
	if n := len(o.segs); n > 0 {
		next = o.segs[n-1].idx
	}
	return o.openSegment(next, len(o.segs) > 0)
}

// readSegment reads every whole, checksummed record of a segment; good is the offset after the
// last good one.
func readSegment(p string) (evs []Event, good, size int64, err error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("netsync: outbox: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, 0, fmt.Errorf("netsync: outbox: %w", err)
	}
	r := bufio.NewReader(f)
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			break
		}
		n := binary.LittleEndian.Uint32(hdr[0:4])
		if n == 0 || n > MaxMessage {
			break
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			break
		}
		if crc32.Checksum(buf, crcTable) != binary.LittleEndian.Uint32(hdr[4:8]) {
			break
		}
		var e Event
		if err := json.Unmarshal(buf, &e); err != nil {
			break
		}
		evs = append(evs, e)
		good += 8 + int64(n)
	}
	return evs, good, st.Size(), nil
}

func (o *Outbox) openSegment(idx int, appendExisting bool) error {
	if o.f != nil {
		o.f.Close()
	}
	p := filepath.Join(o.dir, fmt.Sprintf("seg-%08d.log", idx))
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("netsync: outbox: %w", err)
	}
	o.f = f
	if !appendExisting {
		o.segs = append(o.segs, segment{idx: idx, path: p})
		o.size = 0
		if err := durable.SyncDir(o.dir); err != nil {
			return err
		}
	}
	return nil
}

// Submit queues an event for the disk and the backend. It never blocks: with the queue full it
// returns ErrOutboxFull and the caller must keep the event and submit it again.
func (o *Outbox) Submit(e Event) error {
	o.addQueued(1)
	select {
	case o.in <- e:
		return nil
	default:
		o.addQueued(-1)
		return ErrOutboxFull
	}
}

// addQueued counts events handed over but not yet durable, so Depth never misses one in flight.
func (o *Outbox) addQueued(n int64) {
	o.mu.Lock()
	o.queued += n
	o.mu.Unlock()
}

// SubmitWait queues an event, waiting for room (for callers that may wait, such as sim).
func (o *Outbox) SubmitWait(ctx context.Context, e Event) error {
	o.addQueued(1)
	select {
	case o.in <- e:
		return nil
	case <-ctx.Done():
		o.addQueued(-1)
		return ctx.Err()
	}
}

// Notify is signalled whenever new events become durable (and so sendable).
func (o *Outbox) Notify() <-chan struct{} { return o.notify }

// Run writes submitted events to disk in group commits until ctx is cancelled, then writes what
// is still queued and returns. It blocks.
func (o *Outbox) Run(ctx context.Context) error {
	batch := make([]Event, 0, maxBatch)
	tick := time.NewTicker(ackedSaveEvery)
	defer tick.Stop()
	for {
		batch = batch[:0]
		select {
		case e := <-o.in:
			batch = append(batch, e)
		case <-tick.C:
			o.saveAcked(false)
			continue
		case <-ctx.Done():
			for len(o.in) > 0 && len(batch) < maxBatch {
				batch = append(batch, <-o.in)
			}
			if len(batch) > 0 {
				o.commit(batch)
			}
			o.saveAcked(true)
			return ctx.Err()
		}
		for len(batch) < maxBatch {
			select {
			case e := <-o.in:
				batch = append(batch, e)
				continue
			default:
			}
			break
		}
		for wait := 10 * time.Millisecond; ; wait = min(2*wait, time.Second) {
			err := o.commit(batch)
			if err == nil {
				break
			}
			// Nothing is lost and the order holds: the same batch is retried until the disk
			// takes it; meanwhile Submit fills the queue and then refuses, never blocking.
			o.log.Error().Err(err).Int("events", len(batch)).Msg("outbox write failed; retrying")
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

// commit appends batch to the segment, fsyncs, and makes the events pending (sendable).
func (o *Outbox) commit(batch []Event) error {
	var buf []byte
	for _, e := range batch {
		payload, err := json.Marshal(e)
		if err != nil {
			return err
		}
		var hdr [8]byte
		binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(payload)))
		binary.LittleEndian.PutUint32(hdr[4:8], crc32.Checksum(payload, crcTable))
		buf = append(append(buf, hdr[:]...), payload...)
	}
	o.mu.Lock()
	f := o.f
	seg := o.segs[len(o.segs)-1].idx
	o.mu.Unlock()
	_, err := f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		o.mu.Lock()
		terr := f.Truncate(o.size) // drop a partial record so the next write follows good data
		o.mu.Unlock()
		if terr != nil {
			return fmt.Errorf("netsync: outbox write: %w (and cannot cut it back: %v)", err, terr)
		}
		return fmt.Errorf("netsync: outbox write: %w", err)
	}
	now := time.Now()
	o.mu.Lock()
	o.fsyncs++
	o.queued -= int64(len(batch))
	for _, e := range batch {
		if e.Seq <= o.acked[ackKey(e.Wall, e.Round)] {
			continue // already acknowledged (a resubmission after restart)
		}
		o.next++
		o.pend = append(o.pend, pending{Event: e, n: o.next, seg: seg, added: now})
		o.segs[len(o.segs)-1].count++
	}
	o.size += int64(len(buf))
	if o.size >= o.segBytes {
		err = o.openSegment(seg+1, false)
	}
	o.mu.Unlock()
	select {
	case o.notify <- struct{}{}:
	default:
	}
	return err
}

// After returns up to max pending events appended after local position n, in order, and the
// position of the last one returned.
func (o *Outbox) After(n uint64, max int, dst []Event) ([]Event, uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	i := sort.Search(len(o.pend), func(i int) bool { return o.pend[i].n > n })
	for ; i < len(o.pend) && len(dst) < max; i++ {
		dst = append(dst, o.pend[i].Event)
		n = o.pend[i].n
	}
	return dst, n
}

// Ack records that the backend has committed every event of wall's round up to seq: they are
// dropped from memory, and a segment left with none pending is deleted.
func (o *Outbox) Ack(wall string, round uint32, seq uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	k := ackKey(wall, round)
	if seq <= o.acked[k] {
		return
	}
	o.acked[k] = seq
	o.dirty = true
	keep := o.pend[:0]
	for _, p := range o.pend {
		if p.Wall == wall && p.Round == round && p.Seq <= seq {
			for i := range o.segs {
				if o.segs[i].idx == p.seg {
					o.segs[i].count--
				}
			}
			continue
		}
		keep = append(keep, p)
	}
	o.pend = keep
}

// trimSegments deletes segments (but the current one) with nothing pending. Caller holds mu.
func (o *Outbox) trimSegments() {
	keep := o.segs[:0]
	for i, s := range o.segs {
		if s.count == 0 && i < len(o.segs)-1 {
			if err := os.Remove(s.path); err != nil {
				o.log.Warn().Err(err).Str("segment", s.path).Msg("outbox: cannot delete acknowledged segment")
			}
			continue
		}
		keep = append(keep, s)
	}
	o.segs = keep
}

// saveAcked writes the acknowledged positions (atomically, fsynced) and deletes segments left
// with nothing pending.
func (o *Outbox) saveAcked(force bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.dirty || (!force && time.Since(o.lastSave) < ackedSaveEvery) {
		return
	}
	b, _ := json.Marshal(o.acked)
	if err := durable.WriteFile(filepath.Join(o.dir, "acked.json"), b, 0o644); err != nil {
		o.log.Warn().Err(err).Msg("outbox: cannot save acked positions")
		return
	}
	o.dirty, o.lastSave = false, time.Now()
	o.trimSegments() // only after the acked positions are on disk
}

// AckedList returns the acknowledged seq of every round the outbox knows, for the hello.
func (o *Outbox) AckedList(wall string) []RoundSeq {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []RoundSeq
	for k, s := range o.acked {
		w, r, _ := strings.Cut(k, "/")
		var round uint32
		if _, err := fmt.Sscanf(r, "%d", &round); err == nil && w == wall {
			out = append(out, RoundSeq{Round: round, Seq: s})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Round < out[j].Round })
	return out
}

// Depth returns how many events are not yet acknowledged (durable or still queued).
func (o *Outbox) Depth() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.pend) + int(o.queued)
}

// OldestAge returns how long the oldest unacknowledged durable event has waited (0: none).
func (o *Outbox) OldestAge() time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.pend) == 0 {
		return 0
	}
	return time.Since(o.pend[0].added)
}

// MaxRound returns the highest round number the outbox has seen for wall (acknowledged or not), so
// a restarted show numbers its next round after it.
func (o *Outbox) MaxRound(wall string) uint32 {
	o.mu.Lock()
	defer o.mu.Unlock()
	var m uint32
	for k := range o.acked {
		var r uint32
		if w, rs, ok := strings.Cut(k, "/"); ok && w == wall {
			fmt.Sscanf(rs, "%d", &r)
			m = max(m, r)
		}
	}
	for _, p := range o.pend {
		if p.Wall == wall {
			m = max(m, p.Round)
		}
	}
	return m
}

// Fsyncs returns how many group commits (each one write and one fsync) the outbox has done.
func (o *Outbox) Fsyncs() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.fsyncs
}

// TornBytes returns how many bytes of torn tail were cut when the outbox was opened.
func (o *Outbox) TornBytes() int { return o.cut }

// Close saves the acknowledged positions and closes the segment. Call it after Run has returned.
func (o *Outbox) Close() error {
	o.saveAcked(true)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.f != nil {
		return o.f.Close()
	}
	return nil
}

// LastSeq returns the highest seq of wall's round the outbox holds durably or has seen
// acknowledged: a restarted producer continues after it.
func (o *Outbox) LastSeq(wall string, round uint32) uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := o.acked[ackKey(wall, round)]
	for _, p := range o.pend {
		if p.Wall == wall && p.Round == round {
			m = max(m, p.Seq)
		}
	}
	return m
}
