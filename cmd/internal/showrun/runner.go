// Package showrun is the show runner: the one owner of a live show on the screen PC. It holds the
// clock-driven loop, the Show, the journal writer, the input feeders (touch frames, recordings,
// window and desk keyboards, mouse, the console, the backend's commands, a script), the score
// routing to the backend, the alarms, the metrics and the status the control server publishes. The
// window calls it once per frame (scene.Driver) and draws what it returns; a standby drives the
// same runner from the primary's stream instead of the clock. It links no Ebiten, so it builds and
// tests without a display.
package showrun

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"tapwall/cmd/internal/control"
	"tapwall/game"
	"tapwall/input"
	"tapwall/netsync"
	"tapwall/render/scene"
)

// MouseContact is the contact id the window's mouse uses when it stands in for a touch.
const MouseContact = 0

// StatusEvery is how often the frame goroutine publishes the show's status for the control
// server: often enough for a live console, rarely enough to cost nothing.
const StatusEvery = 100_000 // µs

// Options configures a Runner.
type Options struct {
	Config *game.Config // validated
	// Clock is the show clock in microseconds (monotonic); required. Tick 0 of the loop starts at
	// the first frame, so the tick grid is aligned with the frames.
	Clock func() int64
	Log   zerolog.Logger
	// JournalDir is where live rounds write their journals ("" journals nothing); Start names them.
	JournalDir string
	Start      time.Time
	// Script is played into the loop at its show ticks.
	Script []game.TickInput
	// ExitAfterTicks ends the show once that many ticks are stepped (0: run until quit); with
	// Screenshot, the frame after the last tick is written there as PNG first.
	ExitAfterTicks int64
	Screenshot     string
	// Autoplay puts the built-in player in every lane of every round.
	Autoplay bool
	// HUD shows the HUD and key help in the corner strip from the start (operator.on_wall corner).
	HUD bool
	// Touch reads the configured touch frames through Opener (EvdevOpener in the window).
	Touch  bool
	Opener input.Opener
	// EpochUS is CLOCK_MONOTONIC (µs) at show time 0: the touch frames' kernel timestamps become
	// show times.
	EpochUS int64
	// Evemu are recordings played into the show (rehearsals), from EvemuAt (a show tick), or from
	// when the next round starts running when EvemuAt is negative.
	Evemu   []*input.Recording
	EvemuAt int64
	// Backend, when set, streams every score to the scoring backend.
	Backend *BackendOptions
	// Control is the control server's bound address, for /status.
	Control string
	// Follow makes this show a hot standby of the primary at this URL (ws://HOST:PORT/follow),
	// presenting FollowToken: it steps the primary's ticks, opens no touch frames and connects to
	// no backend until it is promoted.
	Follow      string
	FollowToken string
	// MinFreeBytes is the free space under which disk_space stands (0: MinFreeBytes).
	MinFreeBytes uint64
}

// Runner runs one show. Frame, Scene, Shot and Drawn are called by the window on the frame
// goroutine; Status, Input and Metrics by the control server on its goroutines. Start it with
// Start and end it with Close.
type Runner struct {
	opt  Options
	cfg  *game.Config
	log  zerolog.Logger
	show *game.Show
	loop *game.Loop
	op   *input.Operator
	mon  *input.Monitor
	wall *input.Wall

	touch   *touchFeeder
	evemu   *evemuFeeder
	keys    *input.KeyReader
	backend *backend
	journal *journalWriter
	// journalStop stops the current journal writer once it has written what is queued; journalWG
	// counts the writers still running (an earlier one finishes a rejoined standby's old rounds).
	journalStop context.CancelFunc
	journalWG   sync.WaitGroup
	console     chan consoleReq
	metrics     *metrics
	alarms      alarms

	quit      atomic.Bool
	shotTaken bool
	hud       bool
	help      []string // the key help, shared by every status published (read only)
	mouseDown bool
	pushFn    func(game.Input)
	keyBuf    []input.KeyEvent
	out       []game.Input
	sched     *game.RoundParams // a backend start, applied in the next tick stepped
	lastRound *game.Round
	lastPhase game.Phase
	bySource  [game.NumSources]int64
	live      [game.MaxContacts]scene.Touch
	nlive     int
	sc        scene.Scene
	lat       latency
	fps       fpsMeter
	nextPub   int64
	nextCheck int64
	lastDrop  int64
	dropAt    int64
	diskLow   atomic.Value // string: "" or the problem
	adjust    [game.MaxLanes]input.Adjustment
	laneIn    [game.MaxLanes]int64 // inputs per lane, for the console's rates
	rates     rateWindow
	frameNow  int64      // show time the current frame was stepped to
	shownNow  int64      // frameNow of the last frame drawn (0: none yet)
	periods   [256]int64 // recent frame periods, µs
	nperiods  int
	scale     float64
	shotErr   error

	calib        *input.Calibrator
	evemuPending bool  // playback starts when the round begun runs
	runningSince int64 // show time the current round started running
	downSince    int64 // show time the backend link was last seen down (0: up)

	ctx           context.Context
	role          string // RolePrimary, RoleStandby, RoleDiverged (RoleFenced is read off the link)
	follows       *follows
	gate          *gate
	gateDone      chan struct{}
	gateCancel    context.CancelFunc
	base          game.ShowBase // the show's latest base: snapshots start there
	since         []byte        // the tick records since the base, back to back
	sinceEnds     []int
	recBuf        []byte
	lastHash      uint64           // the show's hash after the last tick recorded
	hashBuf       [16]byte         // lastHash in hex, for a standby's check
	beganRec      game.RoundParams // the round begun in the tick being recorded
	fclient       *netsync.FollowClient
	followCancel  context.CancelFunc
	followDone    chan struct{} // closed when the follow client's Run has returned
	followIn      []game.Input
	primaryOrigin int64
	primaryEpoch  uint64
	fatal         error
	emptyRun      int64 // ticks with nothing in them pending in the snapshot log as one record
	emptyTick     int64
	emptyHash     uint64
	showID        string // this show's id: a standby adopts its primary's and keeps it once promoted
	foreign       bool   // the primary now serves another show (it restarted): link stopped, ticks ignored
	followed      string // the id of the show this standby follows ("" before its first snapshot)
	gateTimeouts  int64  // scores the gate released without a standby's ack, as last seen
	gateTimeoutAt int64

	statusMu  sync.Mutex
	status    control.Status
	lastFrame atomic.Int64 // show time of the last frame drawn
}

type consoleReq struct {
	in    game.Input
	ui    string // "quit", "hud", "next_game", "promote": requests of the window or the show
	reply chan consoleReply
}

type consoleReply struct {
	tick int64
	err  error
}

// New builds the runner of a show: it checks the options, opens the outbox and sets up the
// feeders. Nothing runs before Start.
func New(opt Options) (*Runner, error) {
	if opt.Config == nil || opt.Clock == nil {
		return nil, errors.New("showrun: New needs a Config and a Clock")
	}
	cfg := opt.Config
	r := &Runner{opt: opt, cfg: cfg, log: opt.Log, hud: opt.HUD, console: make(chan consoleReq, 64),
		keyBuf: make([]input.KeyEvent, 0, 16), out: make([]game.Input, 0, 64)}
	r.alarms.log = opt.Log
	r.alarms.name = r.laneName
	r.pushFn = r.push
	r.role = RolePrimary
	if opt.Follow != "" {
		r.role = RoleStandby
	}
	view, viewJSON, err := showView(cfg)
	if err != nil {
		return nil, err
	}
	r.follows = &follows{snap: make(chan snapReq, 4), view: view, viewJSON: viewJSON}
	var id [8]byte
	crand.Read(id[:])
	r.showID = hex.EncodeToString(id[:])
	r.follows.lastTick.Store(-1)
	r.base = game.ShowBase{Game: cfg.Round.Game, AttractOn: cfg.Show.Attract, Autoplay: opt.Autoplay}
	if r.op, err = input.OperatorFor(cfg); err != nil {
		return nil, err
	}
	if r.wall, err = input.NewWall(cfg); err != nil {
		return nil, err
	}
	r.help = keyHelp(r.op.Keymap(), len(cfg.Lanes))
	r.op.Adjusted = func(a input.Adjustment) { r.adjust[a.Lane] = a }
	r.mon = input.NewMonitor(cfg, r.wall, r.op.TakeoverHint)
	if opt.JournalDir != "" {
		r.journal = newJournalWriter(opt.JournalDir, opt.Start, opt.Log, r.journalMoved)
	}
	r.show = game.NewShow(cfg, r.openJournal)
	r.show.SetAutoplay(opt.Autoplay)
	if opt.Touch {
		if opt.Opener == nil {
			return nil, errors.New("showrun: Touch needs an Opener")
		}
		r.touch = newTouchFeeder(cfg, r.wall, opt.Opener, opt.EpochUS, opt.Log)
	}
	if len(opt.Evemu) > 0 {
		if r.evemu, err = newEvemuFeeder(cfg, opt.Evemu); err != nil {
			return nil, err
		}
	}
	if len(cfg.Keyboard.Devices) > 0 && opt.Opener != nil {
		r.keys = input.NewKeyReader(cfg.Keyboard.Devices, cfg.Keyboard.Grab, time.Duration(cfg.Input.ReopenMS)*time.Millisecond,
			input.ReaderOptions{Opener: opt.Opener, Log: opt.Log, EpochUS: opt.EpochUS})
	}
	next := uint32(0)
	if opt.JournalDir != "" {
		next = MaxJournalRound(opt.JournalDir, cfg.Wall.ID)
	}
	if opt.Backend != nil {
		if opt.Backend.Wall != cfg.Wall.ID {
			return nil, fmt.Errorf("showrun: the backend's wall %q is not the config's wall.id %q", opt.Backend.Wall, cfg.Wall.ID)
		}
		if r.backend, err = openBackend(*opt.Backend, opt.Clock, opt.Log); err != nil {
			return nil, err
		}
		next = max(next, r.backend.outbox.MaxRound(cfg.Wall.ID))
	}
	// A restarted show numbers its rounds after those it has journaled or sent, so no key repeats.
	r.show.SetNextRound(next + 1)
	r.base.Number = r.show.Number() // a standby joining before the first base numbers alike
	r.metrics = newMetrics()
	if r.backend != nil {
		r.gate = newGate()
	}
	if opt.Follow != "" {
		r.fclient = netsync.NewFollowClient(opt.Follow, opt.FollowToken, viewJSON, opt.Clock, opt.Log)
	}
	return r, nil
}

// runJournal runs r.journal's writer until journalStop; neither the runner's context nor anything
// else ends it, so the journal Close queues last is written.
func (r *Runner) runJournal() {
	ctx, cancel := context.WithCancel(context.Background())
	r.journalStop = cancel
	r.journalWG.Add(1)
	w := r.journal
	go func() {
		defer r.journalWG.Done()
		w.Run(ctx)
	}()
}

// Fatal returns why the show ended on its own (a standby its primary refused), or nil.
func (r *Runner) Fatal() error { return r.fatal }

// openJournal opens a new round's journal (when there is a journal dir) and tells the outbox
// where it is, so a score damaged on disk can be rebuilt from it. It never blocks.
func (r *Runner) openJournal(rd *game.Round) (io.WriteCloser, error) {
	var f *journalFile
	path := ""
	if r.journal != nil {
		f = r.journal.named(rd)
		path = f.name
	}
	if r.backend != nil { // before the writer opens it: a name it has to change is noted after this
		p := rd.Params()
		if err := r.backend.outbox.SetJournal(p.Wall, p.Round, path); err != nil {
			r.log.Error().Err(err).Uint32("round", p.Round).Msg("outbox cannot note the round's journal")
		}
	}
	if f == nil {
		return nil, nil
	}
	f.open()
	return f, nil
}

// journalMoved tells the outbox where round's journal was written when the name openJournal noted
// was taken (the journal writer's goroutine: the outbox takes it under its own lock).
func (r *Runner) journalMoved(round uint32, path string) {
	if r.backend == nil {
		return
	}
	if err := r.backend.outbox.SetJournal(r.cfg.Wall.ID, round, path); err != nil {
		r.log.Error().Err(err).Uint32("round", round).Msg("outbox cannot note the round's journal")
	}
}

// Show returns the show the runner runs (frame goroutine only).
func (r *Runner) Show() *game.Show { return r.show }

// Loop returns the runner's loop (frame goroutine only; nil before the first frame).
func (r *Runner) Loop() *game.Loop { return r.loop }

// Start starts the runner's goroutines (journal writer, touch frames, desk keyboards, backend
// link, disk-space checks); they stop when ctx is cancelled and Close has been called.
func (r *Runner) Start(ctx context.Context) {
	r.ctx = ctx
	if r.journal != nil {
		r.runJournal() // stopped by Close, after the last round's journal, whatever ctx does
	}
	if r.touch != nil && r.role == RolePrimary { // a standby opens its frames once promoted
		go r.touch.run(ctx)
	}
	if r.keys != nil {
		go r.keys.Run(ctx)
	}
	if r.backend != nil {
		r.backend.start(context.WithoutCancel(ctx), r.role == RolePrimary) // stopped by Close, after the last scores
		gctx, cancel := context.WithCancel(context.Background())
		r.gateCancel, r.gateDone = cancel, make(chan struct{})
		timeout := time.Duration(r.cfg.Standby.AckTimeoutMS) * time.Millisecond
		go func() { r.gate.run(gctx, r.follows, r.backend.outbox, timeout); close(r.gateDone) }()
	}
	if r.fclient != nil {
		fctx, cancel := context.WithCancel(ctx)
		r.followCancel, r.followDone = cancel, make(chan struct{})
		go func() { r.fclient.Run(fctx); close(r.followDone) }()
	}
	go r.watchDisk(ctx)
	r.log.Info().Str("wall", r.cfg.Wall.ID).Int("lanes", len(r.cfg.Lanes)).Str("game", r.cfg.Round.Game).
		Int("tick_rate", r.cfg.Round.TickRate).Uint32("next_round", r.show.Number()+1).Bool("autoplay", r.opt.Autoplay).Msg("show start")
}

// Calibrate puts the runner in calibration mode: touches go to c, not to the show, and the show
// ends once every crosshair is touched.
func (r *Runner) Calibrate(c *input.Calibrator) {
	if r.touch != nil {
		r.touch.calib = c
	}
	r.calib = c
}

// Quit ends the show at the next frame (any goroutine).
func (r *Runner) Quit() { r.quit.Store(true) }

// Close ends the show's journal (summary, fsync), then writes every score still queued to the
// outbox and closes it. Call it once the window has stopped calling Frame. It blocks until the
// journal is on disk, at most timeout, and then until the outbox has written what it holds.
func (r *Runner) Close(timeout time.Duration) error {
	var err error
	if jerr := r.show.Close(); jerr != nil {
		err = jerr
	}
	r.stopFollow()
	if r.journal != nil && r.journalStop != nil {
		deadline := time.After(timeout)
		drained := false
		select {
		case <-r.journal.Drained():
			drained = true
		case <-deadline:
			err = errors.Join(err, fmt.Errorf("journal: %d bytes not written within %v", r.journal.Queued(), timeout))
		}
		r.journalStop() // the writers end once what is queued is written (or given up, logged)
		if drained {
			done := make(chan struct{})
			go func() { r.journalWG.Wait(); close(done) }()
			select {
			case <-done:
			case <-deadline: // an earlier writer of a rejoined standby still retrying a failing disk
			}
		}
	}
	// The outbox closes after the journal writers: a writer that finds a round's journal name
	// taken tells the outbox the name it used (journalMoved), and the outbox's last save of
	// journals.json must hold it.
	if r.backend != nil {
		r.gateCancel() // the gate releases everything it holds to the outbox, then the outbox writes it
		<-r.gateDone
		r.backend.close()
	}
	tick := int64(0)
	if r.loop != nil {
		tick = r.loop.Next()
	}
	r.log.Info().Int64("tick", tick).Msg("show end")
	return err
}

// push queues one input for the loop, stamped with its time, and counts it for its source, its
// lane's activity (the touch-failure alarm) and the newest touch positions.
func (r *Runner) push(in game.Input) {
	r.loop.Push(in)
	r.noteInput(in)
}

func (r *Runner) noteInput(in game.Input) {
	r.bySource[in.Source]++
	r.metrics.inputs[in.Source].Inc()
	if in.Kind.IsTouch() {
		r.track(in)
	}
}

// applied notes an input applied in the tick that starts at tickUS: every input a lane receives,
// from any source (scripts included), is that lane's activity; show-wide actions are none.
func (r *Runner) applied(in *game.Input, tickUS int64) {
	stamp := in.TimeUS
	if stamp == 0 || in.Source == game.SourceScript {
		stamp = tickUS
	}
	r.mon.Observe(*in, stamp)
	lane := -1
	switch {
	case in.Kind.IsTouch():
		lane = game.LaneAt(r.cfg, in.XMM, in.YMM)
	case in.Kind == game.KindTakeover || in.Kind == game.KindZoneTap || in.Kind == game.KindAdjust:
		lane = int(in.Lane)
	}
	if lane >= 0 && lane < len(r.laneIn) {
		r.laneIn[lane]++
	}
	r.lat.applied(lane, stamp)
}

// track keeps the newest known position of every contact down, for the touch markers.
func (r *Runner) track(in game.Input) {
	k := -1
	for i := 0; i < r.nlive; i++ {
		if r.live[i].ID == in.Contact {
			k = i
			break
		}
	}
	switch in.Kind {
	case game.KindDown, game.KindMove:
		if k < 0 {
			if r.nlive == len(r.live) {
				return
			}
			k = r.nlive
			r.nlive++
		}
		r.live[k] = scene.Touch{ID: in.Contact, XMM: in.XMM, YMM: in.YMM, Lane: int8(game.LaneAt(r.cfg, in.XMM, in.YMM))}
	default:
		if k >= 0 {
			r.nlive--
			r.live[k] = r.live[r.nlive]
		}
	}
}

// Frame is scene.Driver.Frame: this frame's window input and every feeder's inputs go into the
// loop, then every tick that is due is stepped (bounded by render.step_budget_ms).
func (r *Runner) Frame(now int64, win *scene.Input) bool {
	r.frameNow = now
	if r.role != RolePrimary {
		return r.followFrame(now, win)
	}
	if r.loop == nil { // the first frame: tick 0 starts now, so ticks and frames are aligned
		r.primaryLoop(now, 0)
		if r.evemu != nil && r.opt.EvemuAt >= 0 {
			r.evemu.start(r.loop.TimeOf(r.opt.EvemuAt))
		}
		r.fps.start(now)
	}
	if r.quit.Load() || (r.calib != nil && r.calib.Done()) {
		return false
	}
	if r.opt.ExitAfterTicks > 0 && r.loop.Next() >= r.opt.ExitAfterTicks && (r.opt.Screenshot == "" || r.shotTaken) {
		return false
	}
	r.syncOperator()
	r.out = r.out[:0]
	if win != nil {
		r.windowInput(now, win)
	}
	r.deskKeys()
	r.op.Move(now)
	for _, in := range r.out {
		r.push(in)
	}
	if r.touch != nil {
		r.touch.feed(now, r.pushFn)
	}
	if r.evemu != nil && r.evemu.feed(now, r.pushFn) {
		r.alarms.set(AlarmPlaybackEnded, -1, fmt.Sprintf("rehearsal playback of %d recording(s) has ended", r.evemu.files), now)
	}
	if r.backend != nil {
		r.backendFrame(now)
	}
	r.consoleInputs(now)
	r.snapshots(now)
	budget := time.Duration(r.cfg.Render.StepBudgetMS) * time.Millisecond
	t0 := time.Now()
	n := r.loop.Advance(now, r, func() bool { return time.Since(t0) < budget })
	r.metrics.ticks.Add(float64(n))
	r.fps.ticks(n)
	r.housekeep(now)
	return true
}

// housekeep checks the alarms (every 250 ms) and publishes the status (every StatusEvery) when
// they are due at show time now: the end of every frame, a primary's or a standby's.
func (r *Runner) housekeep(now int64) {
	if now >= r.nextCheck {
		r.nextCheck = now + 250_000
		r.checkAlarms(now)
	}
	if now >= r.nextPub {
		r.nextPub = now + StatusEvery
		r.publish(now)
	}
}

// primaryLoop makes the loop a primary steps from the clock: tick 0 at show time origin, next the
// next tick to step, the script's inputs from next on queued, and the rounds' StartUS on the show
// clock.
func (r *Runner) primaryLoop(origin, next int64) {
	r.loop = game.NewLoop(r.cfg.Round.TickRate, origin)
	r.loop.SetNext(next)
	r.loop.SetStop(r.opt.ExitAfterTicks)
	for _, ti := range r.opt.Script {
		if ti.Tick >= next {
			r.loop.PushAt(ti.Tick, ti.Input)
			r.bySource[ti.Source]++
		}
	}
	r.show.SetClock(func(tick int64) int64 { return r.showUS(tick) })
}

// showUS is the show time, on the backend's clock when there is one, of show tick t: a round's
// StartUS, fixed when it begins.
func (r *Runner) showUS(t int64) int64 {
	local := r.loop.TimeOf(t)
	if r.backend != nil {
		if off, _, ok := r.backend.client.Clock().Offset(); ok {
			return local + off
		}
	}
	return local
}

// syncOperator tells the keyboard logic what the show says: the next game, keyboard lanes and
// pause.
func (r *Runner) syncOperator() {
	r.op.SetGame(game.GameIndex(r.show.Game()))
	rd := r.show.Round()
	if rd == nil {
		return
	}
	for lane := range r.cfg.Lanes {
		r.op.SetTakeover(lane, rd.Takeover(lane))
	}
	r.op.SetPaused(rd.Phase() == game.PhasePaused)
}

// windowKeys runs the window's keys of this frame (and its close button) through the keymap,
// stamped with the frame's poll time, appending the inputs they make to r.out; ui is what they
// ask of the window.
func (r *Runner) windowKeys(now int64, win *scene.Input) (ui input.UI) {
	if win.Close {
		r.op.AskQuit(now)
	}
	r.keyBuf = r.keyBuf[:0]
	for _, k := range win.Keys {
		r.keyBuf = append(r.keyBuf, input.KeyEvent{Key: k.Name, Pressed: k.Pressed, TimeUS: now, Source: "window"})
	}
	// Ebiten gives no order within a frame: lane selection applies before the other actions, so
	// "4 then T" pressed within one frame takes lane 4 over whatever order they are reported in.
	r.out, ui = r.op.KeysOfFrame(r.keyBuf, r.out)
	return ui
}

// windowInput turns the window's keys and mouse into inputs, stamped with the frame's poll time.
func (r *Runner) windowInput(now int64, win *scene.Input) {
	r.ui(r.windowKeys(now, win), "window keys")
	switch {
	case win.MouseDown && !r.mouseDown && win.MouseIn:
		r.mouseDown = true
		r.out = append(r.out, game.Input{Kind: game.KindDown, Source: game.SourceMouse, Contact: MouseContact, XMM: win.MouseXMM, YMM: win.MouseYMM, TimeUS: now})
	case win.MouseDown && r.mouseDown:
		r.out = append(r.out, game.Input{Kind: game.KindMove, Source: game.SourceMouse, Contact: MouseContact, XMM: win.MouseXMM, YMM: win.MouseYMM, TimeUS: now})
	case !win.MouseDown && r.mouseDown:
		r.mouseDown = false
		r.out = append(r.out, game.Input{Kind: game.KindUp, Source: game.SourceMouse, Contact: MouseContact, XMM: win.MouseXMM, YMM: win.MouseYMM, TimeUS: now})
	}
}

// deskKeys drains the desk keyboards, in the exact order their kernel events came.
func (r *Runner) deskKeys() {
	if r.keys == nil {
		return
	}
	for {
		select {
		case ev := <-r.keys.Events():
			r.key(ev)
			continue
		default:
		}
		return
	}
}

// key runs one key of a desk keyboard through the keymap, in its exact order.
func (r *Runner) key(ev input.KeyEvent) {
	var ui input.UI
	r.out, ui = r.op.Key(ev, r.out)
	r.ui(ui, ev.Source)
}

// ui does what a key asks of the window: the HUD, quit, and on a standby (not a primary) promote.
func (r *Runner) ui(ui input.UI, source string) {
	switch ui {
	case input.UIToggleHUD:
		r.hud = !r.hud
	case input.UIQuit:
		r.log.Warn().Str("source", source).Msg("quit confirmed by operator")
		r.Quit()
	case input.UIPromote:
		if r.role == RolePrimary {
			return
		}
		if err := r.promote(r.frameNow, "promote keys ("+source+")"); err != nil {
			r.log.Error().Err(err).Msg("promotion refused")
		}
	}
}

// consoleInputs applies the console's inputs in the next tick and tells each request its tick.
func (r *Runner) consoleInputs(now int64) {
	for {
		select {
		case req := <-r.console:
			var tick int64
			if r.loop != nil {
				tick = r.loop.Next()
			}
			switch {
			case req.ui == "promote":
				err := r.promote(now, "POST /promote")
				if err == nil {
					r.publish(now) // the caller reads /status next: it must say primary
				}
				req.reply <- consoleReply{tick: tick, err: err}
				continue
			case r.role != RolePrimary && req.ui != "quit" && req.ui != "hud":
				req.reply <- consoleReply{err: fmt.Errorf("%w: this show is a %s: it follows its primary, whose console takes inputs", control.ErrNotNow, r.role)}
				continue
			}
			switch req.ui {
			case "quit":
				r.log.Warn().Str("source", "console").Msg("quit confirmed by operator")
				r.Quit()
			case "hud":
				r.hud = !r.hud
			case "next_game":
				in := game.Input{Kind: game.KindGame, Source: game.SourceConsole, Value: int32(game.NextGame(r.show.Game())), TimeUS: now}
				r.loop.PushAt(tick, in)
				r.noteInput(in)
			default:
				req.in.TimeUS = now
				r.loop.PushAt(tick, req.in)
				r.noteInput(req.in)
			}
			req.reply <- consoleReply{tick: tick}
			continue
		default:
		}
		return
	}
}

// Step is the loop's Stepper: one tick of the show, then what follows from it (logs, scores,
// latency bookkeeping).
func (r *Runner) Step(in []game.Input) {
	tick := r.loop.Next()
	sched := false
	if r.sched != nil {
		p := *r.sched
		r.sched = nil
		p.Countdown = r.loop.CountdownTo(p.StartUS) // p.StartUS holds the local show time of tick 0
		p.StartUS = 0
		if err := r.show.Schedule(p); err != nil {
			r.log.Error().Err(err).Uint32("round", p.Round).Msg("start command refused")
		} else {
			sched = true
		}
	}
	r.show.Step(in)
	r.afterStep(tick, in, sched)
}

// afterStep is what follows a stepped tick (logs, scores, lane activity, the tick's record); sched
// says a round scheduled by the backend began in it.
func (r *Runner) afterStep(tick int64, in []game.Input, sched bool) {
	rd := r.show.Round()
	tickUS := r.loop.TimeOf(tick)
	for i := range in {
		r.logAction(tick, &in[i], rd)
		r.applied(&in[i], tickUS)
	}
	for _, b := range r.show.BotInputs() { // the autoplay player is a contestant: its lanes are active
		r.bySource[game.SourceBot]++
		r.metrics.inputs[game.SourceBot].Inc()
		r.mon.Observe(b, tickUS)
		if lane := game.LaneAt(r.cfg, b.XMM, b.YMM); lane >= 0 {
			r.laneIn[lane]++
		}
	}
	r.recordTick(tick, in, sched) // every tick goes to the standbys, attract screen included
	if err := r.show.Err(); err != nil {
		r.alarms.set(AlarmJournal, -1, "JOURNAL: "+err.Error()+" — the round goes on without it", tickUS)
	}
	if rd == nil {
		return
	}
	if rd != r.lastRound {
		r.lastRound, r.lastPhase = rd, game.PhaseIdle
		p := rd.Params()
		r.log.Info().Uint32("round", p.Round).Str("game", rd.GameName()).Int64("tick", tick).Uint64("seed", p.Seed).
			Strs("names", rd.Names()).Int64("countdown", p.Countdown).Int64("start_us", p.StartUS).Msg("round begins")
		if r.evemu != nil && r.opt.EvemuAt < 0 && !r.evemu.started {
			r.evemuPending = true
		}
		if r.backend != nil && !r.backend.welcomed && r.role == RolePrimary {
			r.alarms.set(AlarmNumbering, -1, fmt.Sprintf("round %d was numbered before the backend answered: if the backend already holds it, its scores conflict", p.Round), r.loop.TimeOf(tick))
		}
	}
	if ph := rd.Phase(); ph != r.lastPhase {
		r.phaseChanged(tick, rd, r.lastPhase, ph)
		r.lastPhase = ph
	}
	for _, e := range r.show.Events() {
		lv := r.log.Info()
		if e.Reason == game.ReasonOperator {
			a := r.adjust[e.Lane]
			lv = r.log.Warn().Int64("before", e.Total-e.Delta).Int64("after", e.Total).Str("key", a.Key).Str("source", a.Source)
		}
		lv.Uint32("round", e.Round).Int64("tick", e.Tick).Uint64("seq", e.Seq).Int("lane", e.Lane).Str("lane_name", rd.Name(e.Lane)).
			Int64("delta", e.Delta).Int64("total", e.Total).Str("reason", e.Reason).Msg(scoreMessage(e.Reason))
	}
	if evs := r.show.Events(); r.gate != nil && len(evs) > 0 {
		r.gate.add(evs, tick) // released to the outbox by the gate's goroutine (a standby's: at once)
	}
}

func scoreMessage(reason string) string {
	if reason == game.ReasonOperator {
		return "score adjusted by operator"
	}
	return "score"
}

// phaseChanged logs a round's phase change; a round over is logged with its final scores.
func (r *Runner) phaseChanged(tick int64, rd *game.Round, from, to game.Phase) {
	p := rd.Params()
	if to == game.PhaseRunning {
		r.runningSince = r.loop.TimeOf(tick)
	}
	if to == game.PhaseRunning && r.evemuPending {
		r.evemuPending = false
		r.evemu.start(r.loop.TimeOf(tick + 1))
		r.log.Info().Int("recordings", r.evemu.files).Int64("tick", tick+1).Msg("rehearsal playback starts with the round")
	}
	if !to.Over() {
		r.log.Info().Uint32("round", p.Round).Int64("tick", tick).Str("from", from.String()).Str("phase", to.String()).Msg("round phase")
		return
	}
	ranks := rd.Ranks(nil)
	arr := zerolog.Arr()
	for lane := range r.cfg.Lanes {
		d := zerolog.Dict().Int("lane", lane).Str("lane_name", rd.Name(lane)).Int64("score", rd.Score(lane))
		if len(ranks) > 0 {
			d = d.Int("rank", ranks[lane])
		}
		arr = arr.Dict(d)
	}
	r.log.Info().Uint32("round", p.Round).Int64("tick", tick).Str("phase", to.String()).Array("scores", arr).
		Int64("events", int64(rd.Seq())).Msg("round over")
}

// logAction logs every show action applied, at info, with the acting source.
func (r *Runner) logAction(tick int64, in *game.Input, rd *game.Round) {
	if in.Kind.IsTouch() || in.Kind == game.KindZoneTap {
		return
	}
	ev := r.log.Info().Str("action", in.Kind.String()).Str("source", in.Source.String()).Int64("tick", tick)
	if rd != nil {
		ev = ev.Uint32("round", rd.Params().Round)
	}
	switch in.Kind {
	case game.KindTakeover:
		ev = ev.Int("lane", int(in.Lane)).Str("lane_name", r.laneName(int(in.Lane))).Bool("on", in.Value != 0)
	case game.KindAdjust:
		ev = ev.Int("lane", int(in.Lane)).Str("lane_name", r.laneName(int(in.Lane))).Int32("delta", in.Value)
	case game.KindGame:
		ev = ev.Str("game", r.show.Game())
	case game.KindNames:
		ev = ev.Strs("names", in.Names)
	}
	ev.Msg("show action")
}

func (r *Runner) laneName(lane int) string {
	if rd := r.show.Round(); rd != nil {
		return rd.Name(lane)
	}
	return r.cfg.Lanes[lane].Name
}

// Scene is scene.Driver.Scene: what the wall shows at show time now.
func (r *Runner) Scene(now int64) *scene.Scene {
	s := &r.sc
	s.Config = r.cfg
	s.NextGame = r.show.Game()
	if a, on := r.show.Attract(); on {
		s.Round, s.Attract = a, true
	} else {
		s.Round, s.Attract = r.show.Round(), false
	}
	_, shot := r.Shot()
	s.Frac = 0
	s.Touches = s.Touches[:0]
	switch {
	case shot: // the stepped state only: the same inputs give the same pixels
		if rd := r.show.Round(); rd != nil {
			for _, c := range rd.Contacts() {
				s.Touches = append(s.Touches, scene.Touch{ID: c.ID, XMM: c.XMM, YMM: c.YMM, Lane: c.Lane})
			}
		}
	case r.loop != nil:
		f := float64(now-r.loop.TimeOf(r.loop.Next())) * float64(r.cfg.Round.TickRate) / 1e6
		s.Frac = min(max(f, 0), 0.999)
		s.Touches = append(s.Touches, r.live[:r.nlive]...)
	}
	s.Overlay = nil
	if r.cfg.Operator.OnWall == game.OnWallCorner {
		s.Overlay = r.overlay(now)
	}
	return s
}

// overlay is the operator's corner strip for single-screen rehearsals (operator.on_wall corner).
func (r *Runner) overlay(now int64) *scene.Overlay {
	o := &scene.Overlay{Selected: r.op.Selected(), Prompt: r.op.Prompt(now)}
	st := r.status // published by this goroutine
	line := fmt.Sprintf("round %d %s  tick %d", st.Round, st.Phase, r.loop.Next())
	o.Lines = append(o.Lines, line)
	if r.hud {
		o.Lines = append(o.Lines, fmt.Sprintf("FPS %.1f TPS %.1f lag %d late %d dropped %d", r.fps.fps, r.fps.tps, r.loop.Lag(now), r.loop.Late(), r.loop.Dropped()))
		if st.Backend != "" {
			o.Lines = append(o.Lines, "backend "+st.Backend+fmt.Sprintf(" outbox %d", st.Outbox))
		}
		for _, l := range st.Lanes { // input-to-frame latency, per lane
			if l.Latency.Count > 0 {
				o.Lines = append(o.Lines, fmt.Sprintf("lane %d latency p50 %.0f p99 %.0f max %.0f ms", l.Index+1, l.Latency.P50, l.Latency.P99, l.Latency.Max))
			}
		}
		o.Help = st.Help
	}
	for _, a := range r.alarms.items {
		o.Alarms = append(o.Alarms, a.Message)
	}
	rd := r.show.Round()
	for lane := range r.cfg.Lanes {
		x, y := r.op.Cursor(lane)
		o.Cursors = append(o.Cursors, [2]int32{x, y})
		o.Keyboard = append(o.Keyboard, rd != nil && rd.Takeover(lane))
	}
	return o
}

// Shot is scene.Driver.Shot: the screenshot is the frame after the last tick of --exit-after-ticks.
func (r *Runner) Shot() (string, bool) {
	if r.opt.Screenshot == "" || r.shotTaken || r.loop == nil || r.opt.ExitAfterTicks == 0 {
		return "", false
	}
	return r.opt.Screenshot, r.show.Tick() >= r.opt.ExitAfterTicks
}

// Drawn is scene.Driver.Drawn: a frame was presented at show time now.
func (r *Runner) Drawn(now int64, scale float64, err error) {
	if _, ok := r.Shot(); ok {
		r.shotTaken = true
		if err != nil {
			r.log.Error().Err(err).Str("path", r.opt.Screenshot).Msg("screenshot not written")
			r.shotErr = err
		}
	}
	prev := r.lastFrame.Swap(now)
	if prev > 0 {
		r.metrics.frame.Observe(float64(now-prev) / 1e6)
		r.periods[r.nperiods%len(r.periods)] = now - prev
		r.nperiods++
	}
	r.fps.frame(now)
	r.scale = scale
	// The frame shows the state stepped to this frame's show time: its inputs count as presented
	// then (the GPU's swap and the display's scan-out come on top, up to a frame with vsync).
	period := r.frameNow - r.shownNow
	if r.shownNow == 0 {
		period = 0
	}
	r.shownNow = r.frameNow
	r.lat.presented(r.frameNow, period, r.metrics)
}

// ShotErr returns the error of writing the screenshot, if any.
func (r *Runner) ShotErr() error { return r.shotErr }
