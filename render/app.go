package render

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"sort"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"github.com/hajimehoshi/ebiten/v2/vector"
	"github.com/rs/zerolog"

	"tapwall/assets"
	"tapwall/game"
	"tapwall/internal/durable"
)

// MouseContact is the contact id the mouse uses when it stands in for a touch.
const MouseContact = 0

// Options configures an App.
type Options struct {
	Config *game.Config // validated show config
	Clock  func() int64 // show clock in microseconds, monotonic; required
	Log    zerolog.Logger
	// Journal opens a round's journal; nil journals nothing.
	Journal game.JournalOpener
	// HUD shows the operator HUD (and the key help) from the start.
	HUD bool
	// Script is played into the loop at its ticks (show ticks, from the loop's start).
	Script []game.TickInput
	// ExitAfterTicks ends the run once that many ticks have been stepped (0: run until quit).
	ExitAfterTicks int64
	// Screenshot, with ExitAfterTicks, is where the last frame is written as PNG.
	Screenshot string
	// Feeders hand inputs from other sources (touch frames, recordings) to the loop every frame.
	Feeders []Feeder
	// Crosshair, if set, is asked every frame for a crosshair to draw over the wall (calibration):
	// where, in wall mm, and the operator's instruction; ok false draws none.
	Crosshair func() (xmm, ymm float64, label string, ok bool)
	// Quit, if set, is asked every frame whether the app should end (calibration done).
	Quit func() bool
	// Keys receives every key press and release of the window, by kernel key name (KEY_SPACE):
	// the keymap, not the window, decides what keys do.
	Keys func(key string, pressed bool, nowUS int64)
	// OnClose is called when the window's close button is pressed; the window stays open (a stray
	// click must never end the show): the operator is asked to confirm.
	OnClose func(nowUS int64)
	// OnScore, if set, is told every ScoreEvent as the show produces it.
	OnScore func(e game.ScoreEvent)
	// Operator, if set, says what the operator overlay shows: selection, cursors, prompts, help
	// and alarms.
	Operator func(nowUS int64) OperatorView
}

// OperatorView is what the operator's keyboard state adds to the wall.
type OperatorView struct {
	Selected int        // selected lane
	Cursors  [][2]int32 // per lane, the keyboard cursor in wall mm (drawn in keyboard lanes)
	Prompt   string     // a question waiting for confirmation
	Help     []string   // key help, shown with the HUD
	Alarms   []string   // touch-failure alarms, always shown
}

// Feeder is a source of inputs that the app polls once per frame, on the frame goroutine: it
// pushes what arrived since the last frame, stamped with show-clock times, and never blocks.
type Feeder interface {
	// Feed pushes the inputs that arrived by show time nowUS.
	Feed(nowUS int64, push func(game.Input))
	// HUD returns lines for the operator HUD (device health, filter counters).
	HUD() []string
}

// App is the wall window: an ebiten.Game that runs the show on the show clock and draws it.
// All its methods are called by Ebiten on one goroutine.
type App struct {
	opt   Options
	cfg   *game.Config
	show  *game.Show
	loop  *game.Loop
	log   zerolog.Logger
	faces faces

	hud        bool
	quit       bool
	closeAsked bool
	mouseDown  bool
	mouseX     int32
	mouseY     int32
	bySource   [game.NumSources]int64
	done       bool // ExitAfterTicks reached: take the screenshot and end
	shotErr    error
	tpsWindow  int64 // start of the current 1 s TPS window
	tpsTicks   int64
	tps        float64
	lastRound  *game.Round
	journalErr int64
	w, h       int
	pushFn     func(game.Input)
	keyBuf     []ebiten.Key
}

type faces struct {
	regular, bold, mono *text.GoTextFaceSource
}

// NewApp returns the wall app for opt; it loads the fonts and queues the script.
func NewApp(opt Options) (*App, error) {
	if opt.Config == nil || opt.Clock == nil {
		return nil, errors.New("render: NewApp needs a Config and a Clock")
	}
	a := &App{opt: opt, cfg: opt.Config, log: opt.Log, hud: opt.HUD}
	var err error
	for _, f := range []struct {
		dst **text.GoTextFaceSource
		ttf []byte
	}{{&a.faces.regular, assets.FontRegular}, {&a.faces.bold, assets.FontBold}, {&a.faces.mono, assets.FontMono}} {
		if *f.dst, err = text.NewGoTextFaceSource(bytes.NewReader(f.ttf)); err != nil {
			return nil, fmt.Errorf("render: font: %w", err)
		}
	}
	a.show = game.NewShow(a.cfg, opt.Journal)
	a.pushFn = a.pushInput
	now := opt.Clock()
	a.loop = game.NewLoop(a.cfg.Round.TickRate, a.cfg.Loop.CatchUpTicks, now)
	a.tpsWindow = now
	a.loop.SetStop(opt.ExitAfterTicks)
	for _, ti := range opt.Script {
		a.loop.PushAt(ti.Tick, ti.Input)
		a.bySource[ti.Source]++
	}
	return a, nil
}

// Show returns the show the app runs (for tests and the HUD).
func (a *App) Show() *game.Show { return a.show }

// Loop returns the app's loop.
func (a *App) Loop() *game.Loop { return a.loop }

// ScreenshotErr returns the error of writing the screenshot, if any.
func (a *App) ScreenshotErr() error { return a.shotErr }

// Run opens the window and runs the app until the operator quits or ExitAfterTicks is reached.
// It blocks, and must be called from the main goroutine.
func Run(a *App, title string, width, height int, fullscreen bool) error {
	ebiten.SetWindowTitle(title)
	ebiten.SetWindowSize(width, height)
	ebiten.SetFullscreen(fullscreen)
	ebiten.SetRunnableOnUnfocused(true) // the show goes on when another window has focus
	ebiten.SetWindowClosingHandled(true)
	ebiten.SetTPS(ebiten.SyncWithFPS) // the loop follows the show clock, not Ebiten's ticks
	if err := ebiten.RunGame(a); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	if err := a.show.Close(); err != nil {
		a.log.Error().Err(err).Msg("journal close failed")
	}
	return a.shotErr
}

func (a *App) pushInput(in game.Input) {
	a.loop.Push(in)
	a.bySource[in.Source]++
}

func (a *App) push(now int64, kind game.Kind, src game.Source, contact, x, y int32) {
	a.loop.Push(game.Input{Kind: kind, Source: src, Contact: contact, XMM: x, YMM: y, TimeUS: now})
	a.bySource[src]++
}

// Update reads keys and the mouse, then steps the show to the tick the show clock says it is.
func (a *App) Update() error {
	if a.done || a.quit {
		return ebiten.Termination
	}
	now := a.opt.Clock()
	a.keys(now)
	a.mouse(now)
	for _, f := range a.opt.Feeders {
		f.Feed(now, a.pushFn)
	}
	if a.opt.Quit != nil && a.opt.Quit() {
		return ebiten.Termination
	}
	n := a.loop.Advance(now, a)
	a.tpsTicks += int64(n)
	if d := now - a.tpsWindow; d >= 1_000_000 {
		a.tps = float64(a.tpsTicks) * 1e6 / float64(d)
		a.tpsWindow, a.tpsTicks = now, 0
	}
	if a.opt.ExitAfterTicks > 0 && a.loop.Next() >= a.opt.ExitAfterTicks && a.opt.Screenshot == "" {
		a.done = true
	}
	return nil
}

// Step is called by the loop for every tick: it steps the show and logs what happened.
func (a *App) Step(in []game.Input) {
	a.show.Step(in)
	r := a.show.Round()
	if r == nil {
		return
	}
	if r != a.lastRound {
		a.lastRound = r
		a.log.Info().Uint32("round", r.Params().Round).Str("game", r.GameName()).Int64("tick", a.loop.Next()).
			Uint64("seed", r.Params().Seed).Msg("round start")
	}
	for _, e := range a.show.Events() {
		if a.opt.OnScore != nil {
			a.opt.OnScore(e)
		}
		a.log.Info().Uint32("round", e.Round).Int64("tick", e.Tick).Uint64("seq", e.Seq).Int("lane", e.Lane).
			Int64("delta", e.Delta).Int64("total", e.Total).Str("reason", e.Reason).Msg("score")
	}
	if err := a.show.Err(); err != nil {
		a.journalErr++
		a.log.Error().Err(err).Uint32("round", r.Params().Round).Msg("journal write failed; the round goes on")
	}
}

// Clock returns the show time now, in microseconds.
func (a *App) Clock() int64 { return a.opt.Clock() }

// ToggleHUD shows or hides the operator HUD.
func (a *App) ToggleHUD() { a.hud = !a.hud }

// Quit ends the show at the next frame.
func (a *App) Quit() { a.quit = true }

func (a *App) keys(now int64) {
	if ebiten.IsWindowBeingClosed() {
		if !a.closeAsked && a.opt.OnClose != nil {
			a.opt.OnClose(now)
		}
		a.closeAsked = true
	} else {
		a.closeAsked = false
	}
	if a.opt.Keys == nil {
		return
	}
	a.keyBuf = inpututil.AppendJustPressedKeys(a.keyBuf[:0])
	for _, k := range a.keyBuf {
		if name := KeyName(k); name != "" {
			a.opt.Keys(name, true, now)
		}
	}
	a.keyBuf = inpututil.AppendJustReleasedKeys(a.keyBuf[:0])
	for _, k := range a.keyBuf {
		if name := KeyName(k); name != "" {
			a.opt.Keys(name, false, now)
		}
	}
}

func (a *App) mouse(now int64) {
	if a.w == 0 {
		return
	}
	v := NewView(a.cfg.Wall.WidthMM, a.cfg.Wall.HeightMM, a.w, a.h)
	cx, cy := ebiten.CursorPosition()
	x, y := v.MM(float64(cx), float64(cy))
	inside := x >= 0 && y >= 0 && x < a.cfg.Wall.WidthMM && y < a.cfg.Wall.HeightMM
	x = max(0, min(x, a.cfg.Wall.WidthMM-1))
	y = max(0, min(y, a.cfg.Wall.HeightMM-1))
	pressed := ebiten.IsMouseButtonPressed(ebiten.MouseButtonLeft)
	switch {
	case pressed && !a.mouseDown && inside:
		a.mouseDown = true
		a.push(now, game.KindDown, game.SourceMouse, MouseContact, x, y)
	case pressed && a.mouseDown && (x != a.mouseX || y != a.mouseY):
		a.push(now, game.KindMove, game.SourceMouse, MouseContact, x, y)
	case !pressed && a.mouseDown:
		a.mouseDown = false
		a.push(now, game.KindUp, game.SourceMouse, MouseContact, x, y)
	}
	a.mouseX, a.mouseY = x, y
}

// Layout uses the window's pixels as they are: the View does the scaling.
func (a *App) Layout(outsideWidth, outsideHeight int) (int, int) {
	a.w, a.h = outsideWidth, outsideHeight
	return outsideWidth, outsideHeight
}

// Draw draws the current state; it changes nothing but the screenshot bookkeeping.
func (a *App) Draw(screen *ebiten.Image) {
	if a.opt.Screenshot != "" && a.opt.ExitAfterTicks > 0 && a.loop.Next() >= a.opt.ExitAfterTicks && !a.done {
		b := screen.Bounds()
		off := ebiten.NewImage(b.Dx(), b.Dy())
		a.drawFrame(off)
		a.shotErr = writePNG(off, a.opt.Screenshot)
		screen.DrawImage(off, nil)
		a.done = true
		return
	}
	a.drawFrame(screen)
}

func writePNG(img *ebiten.Image, path string) error {
	b := img.Bounds()
	rgba := image.NewRGBA(b)
	img.ReadPixels(rgba.Pix)
	var buf bytes.Buffer
	if err := png.Encode(&buf, rgba); err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	if err := durable.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	return nil
}

// Colours of the wall. Lanes alternate two dark shades so their edges read from the audience.
var (
	ColBackground = color.RGBA{0x08, 0x08, 0x10, 0xff}
	ColLaneA      = color.RGBA{0x16, 0x1c, 0x30, 0xff}
	ColLaneB      = color.RGBA{0x1c, 0x24, 0x3c, 0xff}
	ColDivider    = color.RGBA{0xff, 0xff, 0xff, 0xff}
	ColTarget     = color.RGBA{0xff, 0x8c, 0x00, 0xff}
	ColPacket     = color.RGBA{0xe0, 0x20, 0x20, 0xff}
	ColGolden     = color.RGBA{0xff, 0xd7, 0x00, 0xff}
	ColTouch      = color.RGBA{0x00, 0xe5, 0xff, 0xff}
	ColText       = color.RGBA{0xff, 0xff, 0xff, 0xff}
	ColHUD        = color.RGBA{0x00, 0x00, 0x00, 0xc0}
	ColAlarm      = color.RGBA{0xff, 0x30, 0x30, 0xff}
)

func (a *App) drawFrame(dst *ebiten.Image) {
	dst.Fill(ColBackground)
	b := dst.Bounds()
	v := NewView(a.cfg.Wall.WidthMM, a.cfg.Wall.HeightMM, b.Dx(), b.Dy())
	r := a.show.Round()
	unit := v.Len(a.cfg.Wall.HeightMM) / 40 // text size follows the wall, not the window
	for i, l := range a.cfg.Lanes {
		x, y := v.Px(l.XMM, l.YMM)
		c := ColLaneA
		if i%2 == 1 {
			c = ColLaneB
		}
		vector.DrawFilledRect(dst, float32(x), float32(y), float32(v.Len(l.WidthMM)), float32(v.Len(l.HeightMM)), c, false)
	}
	if r != nil {
		a.drawObjects(dst, v, r)
	}
	for _, l := range a.cfg.Lanes { // dividers: every lane's edges, over the objects
		x, y := v.Px(l.XMM, l.YMM)
		vector.StrokeRect(dst, float32(x), float32(y), float32(v.Len(l.WidthMM)), float32(v.Len(l.HeightMM)), 2, ColDivider, false)
	}
	for i, l := range a.cfg.Lanes {
		x, y := v.Px(l.XMM+l.WidthMM/2, l.YMM)
		label := l.Name
		if r != nil {
			label = fmt.Sprintf("%s  %d", l.Name, r.Score(i))
		}
		a.text(dst, label, a.faces.bold, unit*1.6, x, y+unit, ColText, true)
	}
	if r != nil {
		a.drawTouches(dst, v, r, unit)
		a.drawBanner(dst, v, r, unit)
	} else {
		cx, cy := v.Px(a.cfg.Wall.WidthMM/2, a.cfg.Wall.HeightMM/2)
		a.text(dst, "SPACE starts the first round", a.faces.bold, unit*2.5, cx, cy, ColText, true)
	}
	if a.hud {
		a.drawHUD(dst, unit)
	}
	if a.opt.Crosshair != nil {
		if x, y, label, ok := a.opt.Crosshair(); ok {
			a.drawCrosshair(dst, v, x, y, label, unit)
		}
	}
	if a.opt.Operator != nil {
		a.drawOperator(dst, v, r, a.opt.Operator(a.opt.Clock()), unit)
	}
}

// KeyboardLabel is the marker drawn in a lane that the keyboard drives.
const KeyboardLabel = "KEYBOARD"

// Colours of the operator overlay.
var (
	ColKeyboard = color.RGBA{0x30, 0xc0, 0x50, 0xff}
	ColCursor   = color.RGBA{0xff, 0x40, 0xff, 0xff}
	ColSelected = color.RGBA{0xff, 0xff, 0x00, 0xff}
)

func (a *App) drawOperator(dst *ebiten.Image, v View, r *game.Round, op OperatorView, unit float64) {
	for i, l := range a.cfg.Lanes {
		x, y := v.Px(l.XMM, l.YMM)
		w, h := float32(v.Len(l.WidthMM)), float32(v.Len(l.HeightMM))
		if r != nil && r.Takeover(i) {
			vector.StrokeRect(dst, float32(x)+4, float32(y)+4, w-8, h-8, 6, ColKeyboard, false)
			cx, cy := v.Px(l.XMM+l.WidthMM/2, l.YMM+l.HeightMM/8)
			tw, th := text.Measure(KeyboardLabel, &text.GoTextFace{Source: a.faces.bold, Size: unit * 1.8}, 0)
			vector.DrawFilledRect(dst, float32(cx-tw/2-unit/2), float32(cy), float32(tw+unit), float32(th), ColKeyboard, false)
			a.text(dst, KeyboardLabel, a.faces.bold, unit*1.8, cx, cy, ColBackground, true)
			if i < len(op.Cursors) {
				px, py := v.Px(op.Cursors[i][0], op.Cursors[i][1])
				arm := float32(v.Len(120))
				vector.StrokeLine(dst, float32(px)-arm, float32(py), float32(px)+arm, float32(py), 3, ColCursor, true)
				vector.StrokeLine(dst, float32(px), float32(py)-arm, float32(px), float32(py)+arm, 3, ColCursor, true)
			}
		}
		if i == op.Selected {
			vector.StrokeRect(dst, float32(x)+1, float32(y)+1, w-2, 4, 4, ColSelected, false)
		}
	}
	if a.hud && len(op.Help) > 0 {
		size := unit * 0.9
		w := float32(size * 30)
		x := float32(v.OffX+v.Len(a.cfg.Wall.WidthMM)) - w
		vector.DrawFilledRect(dst, x, 0, w, float32(float64(len(op.Help)+1)*size*1.3+size), ColHUD, false)
		a.text(dst, "KEYS (from the active keymap)", a.faces.bold, size, float64(x)+size/2, size/2, ColSelected, false)
		for i, l := range op.Help {
			a.text(dst, l, a.faces.mono, size, float64(x)+size/2, size/2+float64(i+1)*size*1.3, ColText, false)
		}
	}
	cx, _ := v.Px(a.cfg.Wall.WidthMM/2, 0)
	y := float64(v.OffY) + v.Len(a.cfg.Wall.HeightMM)*11/20 // below the HUD, clear of the scores and the timer
	for _, al := range op.Alarms {
		tw, th := text.Measure(al, &text.GoTextFace{Source: a.faces.bold, Size: unit * 1.2}, 0)
		vector.DrawFilledRect(dst, float32(cx-tw/2-unit/2), float32(y), float32(tw+unit), float32(th), ColAlarm, false)
		a.text(dst, al, a.faces.bold, unit*1.2, cx, y, ColText, true)
		y += th + unit/2
	}
	if op.Prompt != "" {
		_, cy := v.Px(0, a.cfg.Wall.HeightMM*3/4)
		tw, th := text.Measure(op.Prompt, &text.GoTextFace{Source: a.faces.bold, Size: unit * 2}, 0)
		vector.DrawFilledRect(dst, float32(cx-tw/2-unit), float32(cy-unit/2), float32(tw+2*unit), float32(th+unit), ColHUD, false)
		a.text(dst, op.Prompt, a.faces.bold, unit*2, cx, cy, ColAlarm, true)
	}
}

func (a *App) drawObjects(dst *ebiten.Image, v View, r *game.Round) {
	rate := r.TickRate()
	for _, o := range r.Objects() {
		ox, oy := o.Pos(r.RunTick(), rate)
		c := ColTarget
		if r.GameName() == "rain" {
			c = ColPacket
			if o.Golden {
				c = ColGolden
			}
		}
		for i, l := range a.cfg.Lanes {
			if o.Taken&(1<<i) != 0 {
				continue
			}
			px, py := v.Px(l.XMM+ox, l.YMM+oy)
			vector.DrawFilledCircle(dst, float32(px), float32(py), float32(v.Len(o.R)), c, true)
		}
	}
}

func (a *App) drawTouches(dst *ebiten.Image, v View, r *game.Round, unit float64) {
	for _, c := range r.Contacts() {
		px, py := v.Px(c.XMM, c.YMM)
		rad := float32(v.Len(60))
		vector.StrokeCircle(dst, float32(px), float32(py), rad, 3, ColTouch, true)
		a.text(dst, fmt.Sprint(c.ID), a.faces.mono, unit, px, py-float64(rad)-unit, ColTouch, true)
	}
}

func (a *App) drawBanner(dst *ebiten.Image, v View, r *game.Round, unit float64) {
	cx, cy := v.Px(a.cfg.Wall.WidthMM/2, a.cfg.Wall.HeightMM/2)
	rate := int64(r.TickRate())
	left := (r.Length() - r.RunTick() + rate - 1) / rate
	timer := fmt.Sprintf("ROUND %d  %s  %d:%02d", r.Params().Round, r.GameName(), left/60, left%60)
	tx, ty := v.Px(a.cfg.Wall.WidthMM/2, a.cfg.Wall.HeightMM)
	a.text(dst, timer, a.faces.bold, unit*1.4, tx, ty-unit*2, ColText, true)
	var banner string
	switch r.Phase() {
	case game.PhaseCountdown:
		banner = fmt.Sprint((r.CountdownTicks() + rate - 1) / rate)
	case game.PhasePaused:
		banner = "PAUSED"
	case game.PhaseAborted:
		banner = "ROUND ABORTED"
	case game.PhaseFinished:
		banner = "FINISHED  " + a.ranking(r)
	case game.PhaseIdle:
		banner = "SPACE starts the round"
	}
	if banner != "" {
		w, h := text.Measure(banner, &text.GoTextFace{Source: a.faces.bold, Size: unit * 2.5}, 0)
		vector.DrawFilledRect(dst, float32(cx-w/2-unit), float32(cy-h/2-unit/2), float32(w+2*unit), float32(h+unit), ColHUD, false)
		a.text(dst, banner, a.faces.bold, unit*2.5, cx, cy-h/2, ColText, true)
	}
}

// ranking lists the lanes best first: "1. lane-2 340  2. lane-1 120 ...". Ties keep lane order.
func (a *App) ranking(r *game.Round) string {
	idx := make([]int, len(a.cfg.Lanes))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return r.Score(idx[i]) > r.Score(idx[j]) })
	s := ""
	for n, i := range idx {
		s += fmt.Sprintf("  %d. %s %d", n+1, a.cfg.Lanes[i].Name, r.Score(i))
	}
	return s
}

func (a *App) drawHUD(dst *ebiten.Image, unit float64) {
	now := a.opt.Clock()
	phase, round, touches := "no round", uint32(0), 0
	if r := a.show.Round(); r != nil {
		phase, round, touches = r.Phase().String(), r.Params().Round, len(r.Contacts())
	}
	lines := []string{
		fmt.Sprintf("FPS %5.1f   TPS %5.1f (target %d)", ebiten.ActualFPS(), a.tps, a.cfg.Round.TickRate),
		fmt.Sprintf("tick %d   lag %d ticks   round %d %s", a.loop.Next(), a.loop.Lag(now), round, phase),
		fmt.Sprintf("late inputs %d   dropped %d   queued %d", a.loop.Late(), a.loop.Dropped(), a.loop.Queued()),
		fmt.Sprintf("active touches %d", touches),
	}
	src := "inputs:"
	for s := game.Source(0); s < game.NumSources; s++ {
		src += fmt.Sprintf(" %s %d", s, a.bySource[s])
	}
	lines = append(lines, src, fmt.Sprintf("journal errors %d", a.journalErr))
	for _, f := range a.opt.Feeders {
		lines = append(lines, f.HUD()...)
	}
	if len(a.opt.Feeders) == 0 {
		lines = append(lines, "no touch frames, recordings or backend")
	}
	size := unit * 0.9
	h := float64(len(lines))*size*1.3 + size
	vector.DrawFilledRect(dst, 0, 0, float32(size*40), float32(h), ColHUD, false)
	for i, l := range lines {
		a.text(dst, l, a.faces.mono, size, size/2, size/2+float64(i)*size*1.3, ColText, false)
	}
}

func (a *App) drawCrosshair(dst *ebiten.Image, v View, xmm, ymm float64, label string, unit float64) {
	px, py := v.OffX+xmm*v.Scale, v.OffY+ymm*v.Scale
	arm := float32(v.Len(150))
	vector.StrokeLine(dst, float32(px)-arm, float32(py), float32(px)+arm, float32(py), 3, ColAlarm, true)
	vector.StrokeLine(dst, float32(px), float32(py)-arm, float32(px), float32(py)+arm, 3, ColAlarm, true)
	vector.StrokeCircle(dst, float32(px), float32(py), arm/2, 2, ColAlarm, true)
	cx, cy := v.Px(a.cfg.Wall.WidthMM/2, a.cfg.Wall.HeightMM/2)
	a.text(dst, label, a.faces.bold, unit*1.6, cx, cy, ColText, true)
}

func (a *App) text(dst *ebiten.Image, s string, src *text.GoTextFaceSource, size, x, y float64, c color.Color, centre bool) {
	if size < 6 {
		size = 6
	}
	face := &text.GoTextFace{Source: src, Size: size}
	op := &text.DrawOptions{}
	if centre {
		op.PrimaryAlign = text.AlignCenter
	}
	op.GeoM.Translate(x, y)
	op.ColorScale.ScaleWithColor(c)
	text.Draw(dst, s, face, op)
}
