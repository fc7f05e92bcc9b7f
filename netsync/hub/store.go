package hub

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"tapwall/netsync"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	eventsBucket  = []byte("events")  // wall -> round (4 bytes BE) -> seq (8 bytes BE) -> event JSON
	wallsBucket   = []byte("walls")   // wall -> {"epoch": 8 bytes BE, "started" -> round (4 bytes BE) -> ""}
	epochKey      = []byte("epoch")   // in a wall's bucket of wallsBucket
	startedBucket = []byte("started") // in a wall's bucket of wallsBucket
)

// Store is the backend's durable record, in bbolt (every commit is fsynced): score events by wall,
// round and seq; per wall the highest fencing epoch it has presented and the rounds a start was
// sent for. In memory it keeps the highest stored seq and the lane totals of every round. Safe for
// concurrent use.
type Store struct {
	db   *bolt.DB
	path string
	// wmu serialises the writers (Commit, MarkStarted, RaiseEpoch, ResetEpoch) and is held across
	// their disk transaction; mu guards the maps below and is never held across the disk, so the
	// walls' readers, the pages and the API never wait on a commit's fsyncs. Only writers change
	// the maps, so a writer reads them without mu and takes it to change them after its commit.
	wmu     sync.Mutex
	mu      sync.Mutex
	seqs    map[string]uint64 // ackKey(wall, round) -> highest stored seq
	totals  map[string]map[uint32]*roundTotal
	epochs  map[string]uint64
	started map[string]map[uint32]bool
}

type roundTotal struct {
	events int
	lanes  map[int]int64
}

// Outcome is what the store did with one event of a commit.
type Outcome uint8

// Outcomes of Commit.
const (
	Stored    Outcome = iota // committed and counted
	Duplicate                // the same event is already stored: acknowledged again, not counted
	Gap                      // not the next seq of its round: refused
	Conflict                 // its key is stored with different content: refused
)

// OpenStore opens (creating) the store at path and loads its totals. It trusts the file's pages:
// check a file that may be damaged with CheckFile first, in a process that may die (a damaged
// bbolt file can fault).
func OpenStore(path string) (*Store, error) { return openStore(path, false) }

// openStore opens the store; noSync (the fuzz target's) skips fsync: never for scores.
func openStore(path string, noSync bool) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, NoSync: noSync})
	if err != nil {
		return nil, openError(path, err)
	}
	s := &Store{db: db, path: path, seqs: map[string]uint64{}, totals: map[string]map[uint32]*roundTotal{},
		epochs: map[string]uint64{}, started: map[string]map[uint32]bool{}}
	err = db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(eventsBucket); err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(wallsBucket); err != nil {
			return err
		}
		return load(tx, s.count, func(wall string, epoch uint64) { s.epochs[wall] = epoch },
			func(wall string, round uint32) { s.markStarted(wall, round) })
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("hub: store %s: %w", path, err)
	}
	return s, nil
}

// load reads every record of the store, checking each, and hands them over.
func load(tx *bolt.Tx, event func(netsync.Event), epoch func(string, uint64), started func(string, uint32)) error {
	root := tx.Bucket(eventsBucket)
	if root == nil {
		return errors.New("no events bucket")
	}
	err := root.ForEach(func(wall, v []byte) error {
		wb := root.Bucket(wall)
		if wb == nil {
			return fmt.Errorf("events/%q is not a bucket", wall)
		}
		return wb.ForEach(func(rk, v []byte) error {
			rb := wb.Bucket(rk)
			if rb == nil || len(rk) != 4 {
				return fmt.Errorf("events/%s/%x is not a round bucket", wall, rk)
			}
			round := binary.BigEndian.Uint32(rk)
			return rb.ForEach(func(k, v []byte) error {
				if len(k) != 8 {
					return fmt.Errorf("events/%s/%d: key %x is not a seq", wall, round, k)
				}
				seq := binary.BigEndian.Uint64(k)
				var e netsync.Event
				if err := json.Unmarshal(v, &e); err != nil {
					return fmt.Errorf("event %s/%d/%d: %w", wall, round, seq, err)
				}
				if e.Wall != string(wall) || e.Round != round || e.Seq != seq {
					return fmt.Errorf("event %s/%d/%d holds the event of %s/%d/%d", wall, round, seq, e.Wall, e.Round, e.Seq)
				}
				event(e)
				return nil
			})
		})
	})
	if err != nil {
		return err
	}
	walls := tx.Bucket(wallsBucket)
	if walls == nil {
		return nil // a store written before epochs existed
	}
	return walls.ForEach(func(wall, v []byte) error {
		wb := walls.Bucket(wall)
		if wb == nil {
			return fmt.Errorf("walls/%q is not a bucket", wall)
		}
		if ev := wb.Get(epochKey); ev != nil {
			if len(ev) != 8 {
				return fmt.Errorf("walls/%s: epoch of %d bytes", wall, len(ev))
			}
			epoch(string(wall), binary.BigEndian.Uint64(ev))
		}
		if sb := wb.Bucket(startedBucket); sb != nil {
			return sb.ForEach(func(k, v []byte) error {
				if len(k) != 4 {
					return fmt.Errorf("walls/%s/started: key %x is not a round", wall, k)
				}
				started(string(wall), binary.BigEndian.Uint32(k))
				return nil
			})
		}
		return nil
	})
}

// CheckFile checks the store file at path without changing it: bbolt's consistency check of every
// page, then every record read and decoded as OpenStore does. A damaged file may make this fault
// or throw (bbolt reads pages through unsafe pointers): run it in a process that may die.
func CheckFile(path string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		return openError(path, err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		var errs []string
		n := 0
		for err := range tx.Check() {
			if n++; len(errs) < 3 {
				errs = append(errs, err.Error())
			}
		}
		if n > 0 {
			return fmt.Errorf("bbolt's check found %d problem(s): %s", n, strings.Join(errs, "; "))
		}
		if tx.Bucket(eventsBucket) == nil {
			return nil // a new, empty store
		}
		return load(tx, func(netsync.Event) {}, func(string, uint64) {}, func(string, uint32) {})
	})
	if err != nil {
		return fmt.Errorf("hub: store %s is damaged: %w", path, err)
	}
	return nil
}

// openError explains a failed bolt.Open.
func openError(path string, err error) error {
	if errors.Is(err, bolt.ErrTimeout) {
		return fmt.Errorf("hub: store %s: %w: another scorehub is using it", path, err)
	}
	return fmt.Errorf("hub: store %s is damaged or not a store: %w", path, err)
}

func (s *Store) count(e netsync.Event) {
	k := ackKey(e.Wall, e.Round)
	s.seqs[k] = max(s.seqs[k], e.Seq)
	w := s.totals[e.Wall]
	if w == nil {
		w = map[uint32]*roundTotal{}
		s.totals[e.Wall] = w
	}
	r := w[e.Round]
	if r == nil {
		r = &roundTotal{lanes: map[int]int64{}}
		w[e.Round] = r
	}
	r.events++
	r.lanes[e.Lane] += e.Delta
}

func (s *Store) markStarted(wall string, round uint32) {
	m := s.started[wall]
	if m == nil {
		m = map[uint32]bool{}
		s.started[wall] = m
	}
	m[round] = true
}

// Commit stores evs in one transaction, fsynced, in order: each is Stored, a Duplicate of the
// same event already stored, refused for a Gap, or refused as a Conflict with a different event
// stored under its key. Nothing is stored if the transaction fails.
func (s *Store) Commit(evs []netsync.Event) ([]Outcome, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	out := make([]Outcome, len(evs))
	next := map[string]uint64{}
	var stored []netsync.Event
	err := s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(eventsBucket)
		for i, e := range evs {
			k := ackKey(e.Wall, e.Round)
			have, ok := next[k]
			if !ok {
				have = s.seqs[k]
			}
			var rk [4]byte
			binary.BigEndian.PutUint32(rk[:], e.Round)
			var sk [8]byte
			binary.BigEndian.PutUint64(sk[:], e.Seq)
			switch {
			case e.Seq <= have:
				out[i] = Duplicate
				var old netsync.Event
				if v := get(root, []byte(e.Wall), rk[:], sk[:]); v == nil || json.Unmarshal(v, &old) != nil || old != e {
					out[i] = Conflict
				}
				continue
			case e.Seq != have+1:
				out[i] = Gap
				continue
			}
			wb, err := root.CreateBucketIfNotExists([]byte(e.Wall))
			if err != nil {
				return err
			}
			rb, err := wb.CreateBucketIfNotExists(rk[:])
			if err != nil {
				return err
			}
			v, _ := json.Marshal(e)
			if err := rb.Put(sk[:], v); err != nil {
				return err
			}
			next[k] = e.Seq
			out[i] = Stored
			stored = append(stored, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hub: store commit: %w", err)
	}
	s.mu.Lock()
	for _, e := range stored { // only what is on disk counts
		s.count(e)
	}
	s.mu.Unlock()
	return out, nil
}

// get returns the value at wall/round/seq under root, nil when there is none.
func get(root *bolt.Bucket, wall, round, seq []byte) []byte {
	wb := root.Bucket(wall)
	if wb == nil {
		return nil
	}
	rb := wb.Bucket(round)
	if rb == nil {
		return nil
	}
	return rb.Get(seq)
}

// StoredSeq returns the highest stored seq of wall's round.
func (s *Store) StoredSeq(wall string, round uint32) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seqs[ackKey(wall, round)]
}

// Acked returns the highest stored seq of every round of wall.
func (s *Store) Acked(wall string) []netsync.RoundSeq {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []netsync.RoundSeq
	for r := range s.totals[wall] {
		out = append(out, netsync.RoundSeq{Round: r, Seq: s.seqs[ackKey(wall, r)]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Round < out[j].Round })
	return out
}

// AckedFor returns, for each of rounds (sorted, each once), the highest seq of wall's round the
// store holds, 0 when it holds none: the welcome's answer to a hello's acked list.
func (s *Store) AckedFor(wall string, rounds []netsync.RoundSeq) []netsync.RoundSeq {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]netsync.RoundSeq, 0, len(rounds))
	for _, r := range rounds {
		out = append(out, netsync.RoundSeq{Round: r.Round, Seq: s.seqs[ackKey(wall, r.Round)]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Round < out[j].Round })
	n := 0
	for i := range out {
		if i == 0 || out[i].Round != out[n-1].Round {
			out[n] = out[i]
			n++
		}
	}
	return out[:n]
}

// Totals is the JSON of GET /api/totals.
type Totals struct {
	Walls []WallTotals `json:"walls"`
}

// WallTotals is one wall's rounds in Totals.
type WallTotals struct {
	Wall   string        `json:"wall"`
	Rounds []RoundTotals `json:"rounds"`
}

// RoundTotals is one round's events and lane scores in Totals.
type RoundTotals struct {
	Round  uint32      `json:"round"`
	Events int         `json:"events"`
	Lanes  []LaneTotal `json:"lanes"`
}

// LaneTotal is one lane's score: the sum of its stored events' deltas.
type LaneTotal struct {
	Lane  int   `json:"lane"`
	Score int64 `json:"score"`
}

// Totals returns every wall's rounds with their lane totals, sorted.
func (s *Store) Totals() Totals {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := Totals{Walls: []WallTotals{}}
	walls := make([]string, 0, len(s.totals))
	for w := range s.totals {
		walls = append(walls, w)
	}
	sort.Strings(walls)
	for _, w := range walls {
		wt := WallTotals{Wall: w}
		for r := range s.totals[w] {
			wt.Rounds = append(wt.Rounds, s.roundTotals(w, r))
		}
		sort.Slice(wt.Rounds, func(i, j int) bool { return wt.Rounds[i].Round < wt.Rounds[j].Round })
		t.Walls = append(t.Walls, wt)
	}
	return t
}

// RoundTotals returns the totals of one round of wall, and whether the store holds any event of it.
func (s *Store) RoundTotals(wall string, round uint32) (RoundTotals, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.totals[wall][round] == nil {
		return RoundTotals{Round: round, Lanes: []LaneTotal{}}, false
	}
	return s.roundTotals(wall, round), true
}

func (s *Store) roundTotals(wall string, round uint32) RoundTotals {
	rt := s.totals[wall][round]
	row := RoundTotals{Round: round, Events: rt.events, Lanes: make([]LaneTotal, 0, len(rt.lanes))}
	for l, sc := range rt.lanes {
		row.Lanes = append(row.Lanes, LaneTotal{Lane: l, Score: sc})
	}
	sort.Slice(row.Lanes, func(i, j int) bool { return row.Lanes[i].Lane < row.Lanes[j].Lane })
	return row
}

// MaxStoredRound returns the highest round of wall the store holds events of.
func (s *Store) MaxStoredRound(wall string) uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxStored(wall)
}

// maxStored is MaxStoredRound with s.mu held.
func (s *Store) maxStored(wall string) uint32 {
	var m uint32
	for r := range s.totals[wall] {
		m = max(m, r)
	}
	return m
}

// MaxRound returns the highest round of wall the store holds events of or a start was sent for.
func (s *Store) MaxRound(wall string) uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.maxStored(wall)
	for r := range s.started[wall] {
		m = max(m, r)
	}
	return m
}

// RoundUsed reports whether the store holds events of wall's round or a start was sent for it.
func (s *Store) RoundUsed(wall string, round uint32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.totals[wall][round] != nil || s.started[wall][round]
}

// MarkStarted records, fsynced, that a start for wall's round was sent, so its number is never
// given out again.
func (s *Store) MarkStarted(wall string, round uint32) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	err := s.db.Update(func(tx *bolt.Tx) error {
		wb, err := tx.Bucket(wallsBucket).CreateBucketIfNotExists([]byte(wall))
		if err != nil {
			return err
		}
		sb, err := wb.CreateBucketIfNotExists(startedBucket)
		if err != nil {
			return err
		}
		var rk [4]byte
		binary.BigEndian.PutUint32(rk[:], round)
		return sb.Put(rk[:], nil)
	})
	if err != nil {
		return fmt.Errorf("hub: store %s: record the start of %s round %d: %w", s.path, wall, round, err)
	}
	s.mu.Lock()
	s.markStarted(wall, round)
	s.mu.Unlock()
	return nil
}

// Epoch returns the highest fencing epoch wall has presented (0: none yet).
func (s *Store) Epoch(wall string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.epochs[wall]
}

// RaiseEpoch records, fsynced, that wall presented epoch, when it is higher than the one held, and
// returns the wall's epoch after it.
func (s *Store) RaiseEpoch(wall string, epoch uint64) (uint64, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if epoch <= s.epochs[wall] {
		return s.epochs[wall], nil
	}
	if err := s.putEpoch(wall, epoch); err != nil {
		return s.epochs[wall], err
	}
	return epoch, nil
}

// ResetEpoch forgets wall's epoch, fsynced (the next hello sets it again), and returns the old one.
func (s *Store) ResetEpoch(wall string) (uint64, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	old := s.epochs[wall]
	return old, s.putEpoch(wall, 0)
}

func (s *Store) putEpoch(wall string, epoch uint64) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		wb, err := tx.Bucket(wallsBucket).CreateBucketIfNotExists([]byte(wall))
		if err != nil {
			return err
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], epoch)
		return wb.Put(epochKey, v[:])
	})
	if err != nil {
		return fmt.Errorf("hub: store %s: record epoch %d of %s: %w", s.path, epoch, wall, err)
	}
	s.mu.Lock()
	s.epochs[wall] = epoch
	s.mu.Unlock()
	return nil
}

// Walls returns every wall the store knows (events, epoch or started rounds), sorted.
func (s *Store) Walls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for w := range s.totals {
		seen[w] = true
	}
	for w := range s.epochs {
		seen[w] = true
	}
	for w := range s.started {
		seen[w] = true
	}
	out := make([]string, 0, len(seen))
	for w := range seen {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func ackKey(wall string, round uint32) string {
	return wall + "/" + strconv.FormatUint(uint64(round), 10)
}
