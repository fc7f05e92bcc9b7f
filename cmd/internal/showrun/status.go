package showrun

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sys/unix"

	"tapwall/cmd/internal/control"
	"tapwall/game"
	"tapwall/input"
	"tapwall/netsync"
)

// MinFreeBytes is the free space under which the disk_space alarm stands where journals or the
// outbox are written: a day of shows needs far less, so under it something else is filling the disk.
const MinFreeBytes = 1 << 30

// DiskCheckEvery is how often free space is checked again.
const DiskCheckEvery = time.Minute

// metrics are the show's Prometheus metrics, served on the control server's /metrics.
type metrics struct {
	reg     *prometheus.Registry
	ticks   prometheus.Counter
	frame   prometheus.Histogram
	latency prometheus.Histogram
	inputs  [game.NumSources]prometheus.Counter
	// values the frame goroutine publishes for the collector functions
	late, dropped, alarms, outbox, lag atomic.Int64
	fps                                atomic.Uint64 // float64 bits
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.ticks = prometheus.NewCounter(prometheus.CounterOpts{Name: "tapwall_ticks_total", Help: "Ticks stepped."})
	m.frame = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tapwall_frame_seconds", Help: "Time between two frames drawn.",
		Buckets: []float64{0.004, 0.008, 0.0167, 0.025, 0.0333, 0.05, 0.1, 0.2, 0.5, 1, 2}})
	m.latency = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tapwall_input_to_frame_seconds",
		Help:    "From an input's timestamp (kernel time for touch, arrival for mouse, keys and console) to the frame that first shows its effect.",
		Buckets: []float64{0.004, 0.008, 0.0167, 0.025, 0.0333, 0.05, 0.075, 0.1, 0.2, 0.5, 1}})
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tapwall_inputs_total", Help: "Inputs received, by source."}, []string{"source"})
	for s := game.Source(0); s < game.NumSources; s++ {
		m.inputs[s] = vec.WithLabelValues(s.String())
	}
	counter := func(name, help string, v *atomic.Int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v.Load()) })
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	m.reg.MustRegister(m.ticks, m.frame, m.latency, vec,
		counter("tapwall_inputs_late_total", "Inputs that arrived after their tick was stepped (applied in the next).", &m.late),
		counter("tapwall_inputs_dropped_total", "Inputs dropped because the loop's queue was full.", &m.dropped),
		gauge("tapwall_alarms", "Alarms standing.", func() float64 { return float64(m.alarms.Load()) }),
		gauge("tapwall_outbox_events", "Score events not yet acknowledged by the backend.", func() float64 { return float64(m.outbox.Load()) }),
		gauge("tapwall_lag_ticks", "Ticks the loop owes the show clock.", func() float64 { return float64(m.lag.Load()) }),
		gauge("tapwall_fps", "Frames drawn per second, last second.", func() float64 { return math.Float64frombits(m.fps.Load()) }),
	)
	return m
}

// latency measures input-to-frame latency: inputs applied in the ticks stepped this frame wait for
// the next frame drawn, which is when their effect is first seen.
type latency struct {
	pending  [4096]pendingInput
	n        int
	overflow int64
	lanes    [game.MaxLanes]laneLatency
	scratch  [laneSamples]int64
}

type pendingInput struct {
	lane  int8
	stamp int64
}

// laneSamples is how many recent latencies each lane keeps for its p50/p99/max.
const laneSamples = 512

type laneLatency struct {
	ring  [laneSamples]int64 // µs
	gaps  [laneSamples]int64 // the period of the frame that showed each, µs
	n     int64
	worst int64
}

// applied notes an input of lane (-1: none) applied in a tick, stamped stamp (its timestamp, or
// its tick's start for a scripted input): it waits for the next frame drawn.
func (l *latency) applied(lane int, stamp int64) {
	if l.n == len(l.pending) {
		l.overflow++
		return
	}
	l.pending[l.n] = pendingInput{lane: int8(lane), stamp: stamp}
	l.n++
}

// presented closes the inputs waiting for a frame: the frame drawn at now, period after the frame
// before it, shows them.
func (l *latency) presented(now, period int64, m *metrics) {
	for _, p := range l.pending[:l.n] {
		d := max(now-p.stamp, 0)
		m.latency.Observe(float64(d) / 1e6)
		if p.lane >= 0 {
			ll := &l.lanes[p.lane]
			ll.ring[ll.n%laneSamples] = d
			ll.gaps[ll.n%laneSamples] = period
			ll.n++
			ll.worst = max(ll.worst, d)
		}
	}
	l.n = 0
}

// lane returns lane's p50, p99 and max over its recent inputs.
func (l *latency) lane(lane int) control.Latency {
	ll := &l.lanes[lane]
	k := int(min(ll.n, laneSamples))
	if k == 0 {
		return control.Latency{}
	}
	s := l.scratch[:k]
	q := func(ring *[laneSamples]int64, p int) float64 {
		copy(s, ring[:k])
		slices.Sort(s)
		return float64(s[min(k-1, (k*p+99)/100-1)]) / 1000
	}
	return control.Latency{P50: q(&ll.ring, 50), P99: q(&ll.ring, 99), Max: float64(ll.worst) / 1000, Count: ll.n,
		FrameP99: q(&ll.gaps, 99)}
}

// fpsMeter counts frames and ticks over windows of a second.
type fpsMeter struct {
	at, frames, ticksN int64
	fps, tps           float64
	lowSince           int64 // show time the frame rate went under min_fps (0: it is not)
}

func (f *fpsMeter) start(now int64) { f.at = now }

func (f *fpsMeter) ticks(n int) { f.ticksN += int64(n) }

func (f *fpsMeter) frame(now int64) {
	f.frames++
	if d := now - f.at; d >= 1_000_000 {
		f.fps = float64(f.frames) * 1e6 / float64(d)
		f.tps = float64(f.ticksN) * 1e6 / float64(d)
		f.at, f.frames, f.ticksN = now, 0, 0
	}
}

// current returns the frame rate, counting the window in progress when it is already slower.
func (f *fpsMeter) current(now int64) float64 {
	if d := now - f.at; d >= 1_000_000 {
		return float64(f.frames) * 1e6 / float64(d)
	}
	return f.fps
}

// rateWindow turns counters into rates per second over windows of about a second.
type rateWindow struct {
	at                   int64
	prevSource, perSrc   [game.NumSources]int64
	prevLane, perLane    [game.MaxLanes]int64
	prevFrames, perFrame []int64
}

func (w *rateWindow) update(now int64, src *[game.NumSources]int64, lanes *[game.MaxLanes]int64, frames []input.Health) {
	d := now - w.at
	if w.at != 0 && d < 1_000_000 {
		return
	}
	for i := range src {
		if w.at != 0 {
			w.perSrc[i] = (src[i] - w.prevSource[i]) * 1e6 / d
		}
		w.prevSource[i] = src[i]
	}
	for i := range lanes {
		if w.at != 0 {
			w.perLane[i] = (lanes[i] - w.prevLane[i]) * 1e6 / d
		}
		w.prevLane[i] = lanes[i]
	}
	if len(w.prevFrames) != len(frames) {
		w.prevFrames, w.perFrame = make([]int64, len(frames)), make([]int64, len(frames))
	}
	for i, h := range frames {
		if w.at != 0 {
			w.perFrame[i] = (h.Events - w.prevFrames[i]) * 1e6 / d
		}
		w.prevFrames[i] = h.Events
	}
	w.at = now
}

// backendFrame applies the backend's numbering and show commands.
func (r *Runner) backendFrame(now int64) {
	b := r.backend
	if !b.welcomed {
		select {
		case <-b.client.Welcomed(): // number the next round after everything the backend holds
			b.welcomed = true
			if n, known := b.client.NextRound(); known && n > r.show.Number()+1 {
				r.log.Info().Uint32("next_round", n).Uint32("was", r.show.Number()+1).Msg("round numbering follows the backend")
				r.show.SetNextRound(n)
			}
			r.alarms.clear(AlarmNumbering, -1)
		default:
		}
	}
	for {
		select {
		case m := <-b.client.Commands():
			r.command(m, now)
			continue
		default:
		}
		return
	}
}

func (r *Runner) command(m netsync.Message, now int64) {
	switch m.Type {
	case netsync.TypeStart:
		off, _, ok := r.backend.client.Clock().Offset()
		if !ok {
			r.log.Warn().Msg("start command before the clock is synced: starting on the local clock")
		}
		if err := r.backend.client.CheckStart(m.Round); err != nil {
			r.alarms.set(AlarmBackendRefused, -1, fmt.Sprintf("backend start for round %d refused: %v", m.Round, err), now)
			return
		}
		if !game.KnownGame(m.Game) {
			r.alarms.set(AlarmBackendRefused, -1, fmt.Sprintf("backend start for round %d refused: unknown game %q", m.Round, m.Game), now)
			return
		}
		if err := game.CheckNames(m.Names, len(r.cfg.Lanes)); err != nil {
			r.alarms.set(AlarmBackendRefused, -1, fmt.Sprintf("backend start for round %d refused: names: %v", m.Round, err), now)
			return
		}
		// StartUS carries the local show time of the round's tick 0 until Step turns it into a countdown.
		r.sched = &game.RoundParams{Round: m.Round, Game: m.Game, Seed: m.Seed, Names: m.Names, StartUS: m.AtUS - off}
		r.log.Info().Uint32("round", m.Round).Str("game", m.Game).Int64("at_us", m.AtUS).Strs("names", m.Names).Msg("round scheduled by the backend")
	case netsync.TypeAbort:
		if rd := r.show.Round(); rd != nil && rd.Params().Round == m.Round {
			r.push(game.Input{Kind: game.KindAbort, Source: game.SourceBackend, TimeUS: now})
		}
	}
}

// checkAlarms raises and clears the alarms the frame goroutine can see.
func (r *Runner) checkAlarms(now int64) {
	var health []input.Health
	if r.touch != nil {
		health = r.touch.reader.Health()
	}
	running := int64(0)
	if rd := r.show.Round(); rd != nil && rd.Phase() == game.PhaseRunning {
		running = r.runningSince
	}
	var kb [game.MaxLanes]bool
	if rd := r.show.Round(); rd != nil {
		for lane := range r.cfg.Lanes {
			kb[lane] = rd.Takeover(lane)
		}
	}
	standing := r.mon.Check(now, running, health, kb[:len(r.cfg.Lanes)])
	var msg [2][game.MaxLanes]string
	for _, a := range standing {
		k := 0
		if a.Code == input.AlarmTouchSilent {
			k = 1
		}
		msg[k][a.Lane] = a.String()
	}
	for lane := range r.cfg.Lanes {
		r.alarms.setIf(msg[0][lane] != "", AlarmTouchLost, lane, msg[0][lane], now)
		r.alarms.setIf(msg[1][lane] != "", AlarmTouchSilent, lane, msg[1][lane], now)
	}
	fps := r.fps.current(now)
	minFPS := float64(r.cfg.Render.MinFPS)
	switch {
	case fps >= minFPS || r.fps.at == 0:
		r.fps.lowSince = 0
		r.alarms.clear(AlarmLowFPS, -1)
	case r.fps.lowSince == 0:
		r.fps.lowSince = now
	case now-r.fps.lowSince >= 1_000_000:
		r.alarms.set(AlarmLowFPS, -1, fmt.Sprintf("FRAME RATE %.1f FPS, under render.min_fps %d: the wall is not smooth (render.scale, a lighter theme, the GPU?)", fps, r.cfg.Render.MinFPS), now)
	}
	if r.journal != nil {
		_, lastErr, _ := r.journal.State()
		q := r.journal.Queued()
		msg := ""
		switch {
		case lastErr != "":
			msg = "JOURNAL WRITES FAILING: " + lastErr + " (kept in memory and retried)"
		case q > JournalQueueAlarm:
			msg = fmt.Sprintf("JOURNAL %d MiB waiting for a slow disk (kept in memory)", q>>20)
		}
		if msg != "" {
			r.alarms.set(AlarmJournal, -1, msg, now)
		} else if r.alarms.has(AlarmJournal, -1) && !strings.HasPrefix(r.alarmMsg(AlarmJournal), "JOURNAL: ") {
			r.alarms.clear(AlarmJournal, -1)
		}
	}
	if r.loop == nil {
		return
	}
	if d := r.loop.Dropped(); d > r.lastDrop {
		r.lastDrop, r.dropAt = d, now
		r.alarms.set(AlarmInputsDropped, -1, fmt.Sprintf("%d inputs dropped: the loop's queue was full (moves first)", d), now)
	} else if now-r.dropAt > 10_000_000 {
		r.alarms.clear(AlarmInputsDropped, -1)
	}
	if b := r.backend; b != nil && b.clientOn.Load() { // a standby's link is off until promoted
		state, st := b.link()
		if st.Connected {
			r.downSince = 0
			r.alarms.clear(AlarmBackendDown, -1)
		} else if r.downSince == 0 {
			r.downSince = now - 1 // counted from the show's start
		} else if now-r.downSince >= 1_000_000 {
			r.alarms.set(AlarmBackendDown, -1, "BACKEND NOT ANSWERING ("+state+"): scores wait in the outbox", now)
		}
		held := r.gate.heldN()
		r.alarms.setIf(held > 0 && !r.follows.attached(), AlarmOutboxFull, -1, fmt.Sprintf("OUTBOX FULL: %d scores held in memory (disk stalled?)", held), now)
		if n := r.gate.timeouts.Load(); n > r.gateTimeouts {
			r.gateTimeouts, r.gateTimeoutAt = n, now
			r.alarms.set(AlarmStandby, -1, fmt.Sprintf("STANDBY NOT FOLLOWING: %d scores sent without its acknowledgement (standby.ack_timeout_ms %d)", n, r.cfg.Standby.AckTimeoutMS), now)
		} else if r.role == RolePrimary && now-r.gateTimeoutAt > 5_000_000 && r.alarms.has(AlarmStandby, -1) {
			r.alarms.clear(AlarmStandby, -1)
		}
		// The outbox's and the link's own alarms (events lost, a permanent gap, a conflict, the
		// wall in use elsewhere, fenced): one per code, the newest message.
		var seen [8]string
		k := 0
		for _, a := range st.Alarms {
			r.alarms.set(a.Code, -1, a.Message, now)
			if k < len(seen) {
				seen[k] = a.Code
				k++
			}
		}
		for _, code := range netsyncAlarms {
			if !slices.Contains(seen[:k], code) {
				r.alarms.clear(code, -1)
			}
		}
	}
	if v, _ := r.diskLow.Load().(string); v != "" {
		r.alarms.set(AlarmDiskSpace, -1, v, now)
	} else {
		r.alarms.clear(AlarmDiskSpace, -1)
	}
}

func (r *Runner) alarmMsg(code string) string {
	if i := r.alarms.find(code, -1); i >= 0 {
		return r.alarms.items[i].Message
	}
	return ""
}

// netsyncAlarms are the alarm codes the outbox and the link raise.
var netsyncAlarms = []string{netsync.AlarmEventsLost, netsync.AlarmGap, netsync.AlarmConflict, netsync.AlarmWallInUse,
	netsync.AlarmFenced, netsync.AlarmRefused}

// watchDisk checks the free space where journals and the outbox go, at once and every minute.
func (r *Runner) watchDisk(ctx context.Context) {
	var dirs []string
	if r.opt.JournalDir != "" {
		dirs = append(dirs, r.opt.JournalDir)
	}
	if r.opt.Backend != nil {
		dirs = append(dirs, r.opt.Backend.Outbox)
	}
	minFree := uint64(MinFreeBytes)
	if r.opt.MinFreeBytes > 0 {
		minFree = r.opt.MinFreeBytes
	}
	t := time.NewTicker(DiskCheckEvery)
	defer t.Stop()
	for {
		low := ""
		for _, d := range dirs {
			var st unix.Statfs_t
			if err := unix.Statfs(d, &st); err != nil {
				continue
			}
			if free := st.Bavail * uint64(st.Bsize); free < minFree {
				low = fmt.Sprintf("DISK: %d MiB free in %s (under %d MiB): journals and scores need room", free>>20, d, minFree>>20)
				break
			}
		}
		r.diskLow.Store(low)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// publish builds the status the control server serves: every StatusEvery on the frame goroutine,
// so /status answers from a snapshot even while frames are frozen.
func (r *Runner) publish(now int64) {
	var health []input.Health
	if r.touch != nil {
		health = r.touch.reader.Health()
	}
	r.rates.update(now, &r.bySource, &r.laneIn, health)
	st := control.Status{Role: r.role, Wall: r.cfg.Wall.ID, Epoch: 1, PID: os.Getpid(),
		FPS: r.fps.fps, TPS: r.fps.tps, Control: r.opt.Control, Phase: "idle",
		NextGame: r.show.Game(), TickRate: r.cfg.Round.TickRate, ShowUS: now, RenderScale: r.scale,

		Inputs: map[string]int64{}, InputRates: map[string]int64{}, WallMM: [2]int32{r.cfg.Wall.WidthMM, r.cfg.Wall.HeightMM},
		Selected: r.op.Selected(), OnWall: r.cfg.Operator.OnWall, Alarms: slices.Clone(r.alarms.items), Frames: []control.Frame{}}
	if st.Alarms == nil {
		st.Alarms = []control.Alarm{}
	}
	if k := min(r.nperiods, len(r.periods)); k > 0 {
		p := r.lat.scratch[:k]
		copy(p, r.periods[:k])
		slices.Sort(p)
		st.FrameP99MS = float64(p[min(k-1, (k*99+99)/100-1)]) / 1000
	}
	_, st.Attract = r.show.Attract()
	if r.loop != nil {
		st.Tick, st.LateInputs, st.DroppedInputs, st.Queued = r.loop.Next(), r.loop.Late(), r.loop.Dropped(), r.loop.Queued()
		if r.role == RolePrimary {
			st.LagTicks = r.loop.Lag(now)
		}
	}
	if r.fclient != nil && r.role != RolePrimary {
		st.Following = r.opt.Follow
		tick, _ := r.fclient.Primary()
		st.FollowLagTicks = max(0, tick-(r.show.Tick()-1))
		switch state, _ := r.fclient.State(); {
		case r.foreign: // the link is stopped: its last state says nothing
			st.Backend = "standby: not following: the primary's address serves another show"
		case state != "following":
			st.Backend = "standby: " + state
		}
	}
	for s := game.Source(0); s < game.NumSources; s++ {
		st.Inputs[s.String()] = r.bySource[s]
		st.InputRates[s.String()] = r.rates.perSrc[s]
	}
	rd := r.show.Round()
	var ranks []int
	if rd != nil {
		st.Round, st.Phase, st.Game = rd.Params().Round, rd.Phase().String(), rd.GameName()
		ranks = rd.Ranks(nil)
	}
	for lane, l := range r.cfg.Lanes {
		x, y := r.op.Cursor(lane)
		ln := control.Lane{Index: lane, Name: l.Name, Cursor: [2]int32{x, y}, Rect: [4]int32{l.XMM, l.YMM, l.WidthMM, l.HeightMM},
			InputRate: r.rates.perLane[lane], LastAgoMS: -1, Latency: r.lat.lane(lane)}
		if t := r.mon.LastInput(lane); t > 0 {
			ln.LastAgoMS = (now - t) / 1000
		}
		if names := r.show.Names(); rd == nil && lane < len(names) && names[lane] != "" {
			ln.Name = names[lane] // the contestants of the next round
		}
		if rd != nil {
			ln.Name, ln.Score, ln.Keyboard = rd.Name(lane), rd.Score(lane), rd.Takeover(lane)
			if len(ranks) > 0 {
				ln.Rank = ranks[lane]
			}
		}
		st.Lanes = append(st.Lanes, ln)
	}
	for i, h := range health {
		f := control.Frame{Name: h.Name, Connected: h.Connected, Events: h.Events, Path: h.Path, LastAgoMS: -1}
		if !h.Connected {
			f.Error = h.Err
		}
		if h.LastUS > 0 {
			f.LastAgoMS = (now - h.LastUS) / 1000
		}
		if i < len(r.rates.perFrame) {
			f.Rate = r.rates.perFrame[i]
		}
		st.Frames = append(st.Frames, f)
	}
	ws := r.wall.Stats()
	st.Filters = map[string]int64{"downs": ws.Downs, "ghosts": ws.Ghosts, "over_limit": ws.OverLimit, "dejittered": ws.Dejittered,
		"stuck": ws.Stuck, "seams": ws.Seams, "merged": ws.Merged, "strays": ws.Strays, "full": ws.Full}
	if r.touch != nil {
		st.Filters["reader_dropped"] = r.touch.reader.Dropped()
	}
	if text, action, left, ok := r.op.PromptState(now); ok {
		a := string(action)
		if action == input.ActScoreUp || action == input.ActScoreDown {
			a = "adjust"
		}
		st.Prompt = &control.Prompt{Text: text, LeftMS: left / 1000, Action: a}
	}
	st.Help = r.help
	switch {
	case r.journal == nil:
		st.Journal = "off (--journal-dir \"\")"
	default:
		cur, lastErr, written := r.journal.State()
		st.Journal = fmt.Sprintf("%s (%d KiB written, %d KiB queued)", cur, written>>10, r.journal.Queued()>>10)
		if lastErr != "" {
			st.Journal = "FAILING: " + lastErr
		}
	}
	if r.evemu != nil {
		st.Playback = r.evemu.state()
	}
	if r.keys != nil {
		st.Keyboards = r.keys.Connected()
	}
	st.AdjustStep = r.cfg.Keyboard.AdjustStep
	if b := r.backend; b != nil {
		state, ls := b.link()
		if !b.clientOn.Load() {
			state = "not connected: a standby connects once promoted"
		}
		st.Backend, st.Outbox, st.Epoch = state, ls.Depth+r.gate.heldN(), b.outbox.Epoch()
		if ls.State == netsync.LinkFenced {
			st.Role = "fenced"
		}
		st.Link = &control.Link{State: state, URL: b.opt.URL, RTTMS: float64(ls.RTT.Microseconds()) / 1000, OffsetUS: ls.OffsetUS,
			Outbox: st.Outbox, OldestAgeMS: ls.OldestAge.Milliseconds(), Reconnects: ls.Reconnects, LastError: ls.LastError}
	}
	m := r.metrics
	m.late.Store(st.LateInputs)
	m.dropped.Store(st.DroppedInputs)
	m.alarms.Store(int64(len(st.Alarms)))
	m.outbox.Store(int64(st.Outbox))
	m.lag.Store(st.LagTicks)
	m.fps.Store(math.Float64bits(st.FPS))
	r.statusMu.Lock()
	r.status = st
	r.statusMu.Unlock()
	if r.backend != nil {
		r.backend.client.SetStatus(wallStatus(&st, rd, now))
	}
}

// keyHelp is the key help the status and the HUD show: km's, less the lanes the wall does not have.
// The keymap never changes once the runner is built: New computes it once.
func keyHelp(km *input.Keymap, lanes int) []string {
	var out []string
	for _, h := range km.Help() {
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(h[12:]), "select lane %d", &n); err == nil && n > lanes {
			continue // only lanes that exist
		}
		out = append(out, h)
	}
	return out
}

// wallStatus is what the backend's pages (overlay, director) get of the show: names, scores,
// phase and timer.
func wallStatus(st *control.Status, rd *game.Round, now int64) netsync.WallStatus {
	ws := netsync.WallStatus{Role: st.Role, Epoch: st.Epoch, Round: st.Round, Phase: st.Phase, Game: st.Game, NextGame: st.NextGame,
		Tick: st.Tick, ShowUS: now}
	if st.Attract {
		ws.Phase = "attract"
	}
	if rd != nil {
		rate := int64(rd.TickRate())
		ws.CountdownMS = rd.CountdownTicks() * 1000 / rate
		ws.LengthMS = rd.Length() * 1000 / rate
		ws.LeftMS = max(rd.Length()-rd.RunTick(), 0) * 1000 / rate
		ws.ShowUS = rd.ShowUS(rd.Tick())
	}
	for _, l := range st.Lanes {
		ws.Lanes = append(ws.Lanes, netsync.LaneStatus{Name: l.Name, Score: l.Score, Rank: l.Rank, Keyboard: l.Keyboard})
	}
	return ws
}

// Status is control.Show.Status: the last published status, with the age of the last frame
// measured now (a frozen frame raises frame_stale here, since the frame goroutine cannot).
func (r *Runner) Status() control.Status {
	r.statusMu.Lock()
	st := r.status
	r.statusMu.Unlock()
	now := r.opt.Clock()
	if last := r.lastFrame.Load(); last > 0 {
		st.LastFrameAgeMS = (now - last) / 1000
		if st.LastFrameAgeMS > FrameStaleMS {
			st.Alarms = append(slices.Clone(st.Alarms), control.Alarm{Code: AlarmFrameStale, Lane: -1, SinceUS: last,
				Message: fmt.Sprintf("FROZEN: no frame drawn for %d ms", st.LastFrameAgeMS)})
		}
	}
	return st
}

// Input is control.Show.Input: one console input line, applied at the next tick.
func (r *Runner) Input(ctx context.Context, line []byte) (int64, error) {
	req := consoleReq{reply: make(chan consoleReply, 1)}
	action, in, err := game.ParseConsoleInput(line, r.cfg)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", control.ErrBadInput, err)
	}
	if action != "" { // one of game.ConsoleActions
		req.ui = action
	} else {
		in.Source = game.SourceConsole
		req.in = in
	}
	select {
	case r.console <- req:
	case <-ctx.Done():
		return 0, fmt.Errorf("the frame loop is not taking inputs: %w", ctx.Err())
	}
	select {
	case rep := <-req.reply:
		return rep.tick, rep.err
	case <-ctx.Done():
		return 0, fmt.Errorf("the frame loop did not apply the input in time: %w", ctx.Err())
	}
}

// Metrics is control.Show.Metrics.
func (r *Runner) Metrics() http.Handler {
	return promhttp.HandlerFor(r.metrics.reg, promhttp.HandlerOpts{})
}
