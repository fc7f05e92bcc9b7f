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
	"tapwall/render/scene"
)

// Options configures an App.
type Options struct {
	Config *game.Config   // validated show config
	Clock  func() int64   // show clock in microseconds, monotonic; required
	Driver scene.Driver   // the show; required
	Log    zerolog.Logger // for X11 and drawing errors
	// Crosshair, if set, is asked every frame for a crosshair to draw over the wall (calibration):
	// where, in wall mm, and the operator's instruction; ok false draws none.
	Crosshair func() (xmm, ymm float64, label string, ok bool)
}

// App is the wall window: an ebiten.Game that hands the window's input to the show, lets it step
// to the show clock, and draws the scene it returns. All its methods are called by Ebiten on one
// goroutine.
type App struct {
	opt    Options
	cfg    *game.Config
	faces  faces
	w, h   int
	in     scene.Input
	keyBuf []ebiten.Key
	done   bool
}

type faces struct {
	regular, bold, mono *text.GoTextFaceSource
}

// NewApp returns the wall app for opt; it loads the fonts.
func NewApp(opt Options) (*App, error) {
	if opt.Config == nil || opt.Clock == nil || opt.Driver == nil {
		return nil, errors.New("render: NewApp needs a Config, a Clock and a Driver")
	}
	a := &App{opt: opt, cfg: opt.Config}
	var err error
	for _, f := range []struct {
		dst **text.GoTextFaceSource
		ttf []byte
	}{{&a.faces.regular, assets.FontRegular}, {&a.faces.bold, assets.FontBold}, {&a.faces.mono, assets.FontMono}} {
		if *f.dst, err = text.NewGoTextFaceSource(bytes.NewReader(f.ttf)); err != nil {
			return nil, fmt.Errorf("render: font: %w", err)
		}
	}
	return a, nil
}

// Run opens the window and runs the app until the show ends. It blocks, and must be called from
// the main goroutine.
func Run(a *App, title string, width, height int, fullscreen bool) error {
	ebiten.SetWindowTitle(title)
	ebiten.SetWindowSize(width, height)
	ebiten.SetFullscreen(fullscreen)
	ebiten.SetRunnableOnUnfocused(true) // the show goes on when another window has focus
	ebiten.SetWindowClosingHandled(true)
	ebiten.SetTPS(ebiten.SyncWithFPS) // the show steps on its own clock, not Ebiten's ticks
	if err := ebiten.RunGame(a); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	return nil
}

// Update hands this frame's keys and mouse to the show and lets it step to the show clock.
func (a *App) Update() error {
	if a.done {
		return ebiten.Termination
	}
	now := a.opt.Clock()
	a.in.Keys = a.in.Keys[:0]
	a.keyBuf = inpututil.AppendJustPressedKeys(a.keyBuf[:0])
	for _, k := range a.keyBuf {
		if name := KeyName(k); name != "" {
			a.in.Keys = append(a.in.Keys, scene.Key{Name: name, Pressed: true})
		}
	}
	a.keyBuf = inpututil.AppendJustReleasedKeys(a.keyBuf[:0])
	for _, k := range a.keyBuf {
		if name := KeyName(k); name != "" {
			a.in.Keys = append(a.in.Keys, scene.Key{Name: name, Pressed: false})
		}
	}
	a.in.Close = ebiten.IsWindowBeingClosed()
	a.in.MouseIn, a.in.MouseDown = false, false
	if a.w > 0 {
		v := NewView(a.cfg.Wall.WidthMM, a.cfg.Wall.HeightMM, a.w, a.h)
		cx, cy := ebiten.CursorPosition()
		x, y := v.MM(float64(cx), float64(cy))
		a.in.MouseIn = x >= 0 && y >= 0 && x < a.cfg.Wall.WidthMM && y < a.cfg.Wall.HeightMM
		a.in.MouseXMM = max(0, min(x, a.cfg.Wall.WidthMM-1))
		a.in.MouseYMM = max(0, min(y, a.cfg.Wall.HeightMM-1))
		a.in.MouseDown = ebiten.IsMouseButtonPressed(ebiten.MouseButtonLeft)
	}
	if !a.opt.Driver.Frame(now, &a.in) {
		a.done = true
		return ebiten.Termination
	}
	return nil
}

// Layout uses the window's pixels as they are: the View does the scaling.
func (a *App) Layout(outsideWidth, outsideHeight int) (int, int) {
	a.w, a.h = outsideWidth, outsideHeight
	return outsideWidth, outsideHeight
}

// Draw draws the scene the show returns for now; it changes nothing in the show.
func (a *App) Draw(screen *ebiten.Image) {
	now := a.opt.Clock()
	sc := a.opt.Driver.Scene(now)
	if path, ok := a.opt.Driver.Shot(); ok {
		b := screen.Bounds()
		off := ebiten.NewImage(b.Dx(), b.Dy())
		a.drawFrame(off, sc)
		err := writePNG(off, path)
		screen.DrawImage(off, nil)
		a.opt.Driver.Drawn(now, 1, err)
		return
	}
	a.drawFrame(screen, sc)
	a.opt.Driver.Drawn(now, 1, nil)
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

func (a *App) drawFrame(dst *ebiten.Image, sc *scene.Scene) {
	dst.Fill(ColBackground)
	b := dst.Bounds()
	v := NewView(a.cfg.Wall.WidthMM, a.cfg.Wall.HeightMM, b.Dx(), b.Dy())
	r := sc.Round
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
		if r != nil && !sc.Attract {
			label = fmt.Sprintf("%s  %d", r.Name(i), r.Score(i))
		}
		a.text(dst, label, a.faces.bold, unit*1.6, x, y+unit, ColText, true)
	}
	a.drawTouches(dst, v, sc.Touches)
	switch {
	case sc.Attract:
		cx, cy := v.Px(a.cfg.Wall.WidthMM/2, a.cfg.Wall.HeightMM/2)
		a.text(dst, a.cfg.Show.Title, a.faces.bold, unit*3, cx, cy-unit*3, ColText, true)
		a.text(dst, "next: "+sc.NextGame, a.faces.bold, unit*1.6, cx, cy, ColText, true)
	case r != nil:
		a.drawBanner(dst, v, r, unit)
	}
	if a.opt.Crosshair != nil {
		if x, y, label, ok := a.opt.Crosshair(); ok {
			a.drawCrosshair(dst, v, x, y, label, unit)
		}
	}
	if sc.Overlay != nil {
		a.drawOverlay(dst, v, sc.Overlay, unit)
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

// drawOverlay draws the operator's corner strip (operator.on_wall = "corner", rehearsals only):
// keyboard lanes' frames and cursors, the selected lane, status lines, alarms, the prompt and, with
// the HUD, the key help, all in the bottom-left corner.
func (a *App) drawOverlay(dst *ebiten.Image, v View, op *scene.Overlay, unit float64) {
	for i, l := range a.cfg.Lanes {
		x, y := v.Px(l.XMM, l.YMM)
		w, h := float32(v.Len(l.WidthMM)), float32(v.Len(l.HeightMM))
		if i < len(op.Keyboard) && op.Keyboard[i] {
			vector.StrokeRect(dst, float32(x)+4, float32(y)+4, w-8, h-8, 6, ColKeyboard, false)
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
	lines := append(append([]string{}, op.Lines...), op.Alarms...)
	if op.Prompt != "" {
		lines = append(lines, op.Prompt)
	}
	lines = append(lines, op.Help...)
	size := unit * 0.8
	h := float64(len(lines))*size*1.3 + size
	y0 := v.OffY + v.Len(a.cfg.Wall.HeightMM) - h
	vector.DrawFilledRect(dst, float32(v.OffX), float32(y0), float32(size*36), float32(h), ColHUD, false)
	for i, l := range lines {
		c := color.Color(ColText)
		if i >= len(op.Lines) && i < len(op.Lines)+len(op.Alarms) {
			c = ColAlarm
		}
		a.text(dst, l, a.faces.mono, size, v.OffX+size/2, y0+size/2+float64(i)*size*1.3, c, false)
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

func (a *App) drawTouches(dst *ebiten.Image, v View, touches []scene.Touch) {
	for _, c := range touches {
		px, py := v.Px(c.XMM, c.YMM)
		vector.StrokeCircle(dst, float32(px), float32(py), float32(v.Len(60)), 3, ColTouch, true)
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
	}
	if banner != "" {
		w, h := text.Measure(banner, &text.GoTextFace{Source: a.faces.bold, Size: unit * 2.5}, 0)
		vector.DrawFilledRect(dst, float32(cx-w/2-unit), float32(cy-h/2-unit/2), float32(w+2*unit), float32(h+unit), ColHUD, false)
		a.text(dst, banner, a.faces.bold, unit*2.5, cx, cy-h/2, ColText, true)
	}
}

// ranking lists the lanes best first: "1. lane-2 340  2. lane-1 120 ...". Tied lanes share a rank.
func (a *App) ranking(r *game.Round) string {
	ranks := r.Ranks(nil)
	idx := make([]int, len(a.cfg.Lanes))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return r.Score(idx[i]) > r.Score(idx[j]) })
	s := ""
	for _, i := range idx {
		if len(ranks) > 0 {
			s += fmt.Sprintf("  %d. %s %d", ranks[i], r.Name(i), r.Score(i))
		}
	}
	return s
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
