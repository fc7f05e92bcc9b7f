package render

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"
	xdraw "golang.org/x/image/draw"

	"tapwall/assets"
	"tapwall/game"
	"tapwall/internal/durable"
	"tapwall/render/scene"
)

// Options configures an App.
type Options struct {
	Config *game.Config // validated show config
	Clock  func() int64 // show clock in microseconds, monotonic; required
	Driver scene.Driver // the show; required
	// Theme is the wall's look; nil loads the config's [theme] (assets.LoadTheme).
	Theme *assets.Theme
	// Crosshair, if set, is asked every frame for a crosshair to draw over the wall (calibration):
	// where, in wall mm, and the operator's instruction; ok false draws none.
	Crosshair func() (xmm, ymm float64, label string, ok bool)
}

// App is the wall window: an ebiten.Game that hands the window's input to the show, lets it step
// to the show clock, and draws the scene it returns. All its methods are called by Ebiten on one
// goroutine.
//
// Drawing is cheap and allocates nothing once warm: the static layer (background, lane panels,
// header bands, dividers) is rendered once per size; objects, effects, markers and text are quads
// of one Kage shader, the whole frame in one batch (shapes.go); text comes from labels and digits
// rendered into the atlas once (see text.go). The picture is a function of the scene alone (state and show time).
type App struct {
	opt    Options
	cfg    *game.Config
	theme  *assets.Theme
	fonts  *fonts
	labels labels
	b      *batch
	art    *art
	atlas  *atlas

	laneCol []rgba
	bgImg   *ebiten.Image
	logoImg *themeImg
	logo    sprite
	themed  [3]*themeImg // the theme's target, packet and golden images (nil: none)

	lay      *Layout
	bg       *ebiten.Image
	bgOp     ebiten.DrawImageOptions
	digScore *digits
	digPlus  *digits
	digTimer *digits
	digFinal *digits

	// per-frame scratch, reused
	hits     []game.Hit
	gone     []game.Gone
	pending  [game.MaxLanes]float64
	popAge   [game.MaxLanes]float64
	ranks    []int
	num      []byte
	nextGame string
	nextText string

	scaler scaler
	off    *ebiten.Image // the wall drawn below scale 1
	offOp  ebiten.DrawImageOptions

	w, h   int
	in     scene.Input
	keyBuf []ebiten.Key
	done   bool
}

// NewApp returns the wall app for opt: it loads the theme (unless given) and the fonts and
// compiles the shader. A theme file that cannot be used is an error naming its key.
func NewApp(opt Options) (*App, error) {
	if opt.Config == nil || opt.Clock == nil || opt.Driver == nil {
		return nil, errors.New("render: NewApp needs a Config, a Clock and a Driver")
	}
	a := &App{opt: opt, cfg: opt.Config, theme: opt.Theme}
	var err error
	if a.theme == nil {
		if a.theme, err = assets.LoadTheme(opt.Config); err != nil {
			return nil, err
		}
	}
	if a.fonts, err = newFonts(a.theme); err != nil {
		return nil, fmt.Errorf("render: font: %w", err)
	}
	if a.b, err = newBatch(); err != nil { // the atlas comes with the first layout (prepare)
		return nil, fmt.Errorf("render: shader: %w", err)
	}
	if a.art, err = newArt(); err != nil {
		return nil, fmt.Errorf("render: shader: %w", err)
	}
	a.labels = labels{fs: a.fonts, b: a.b, m: map[labelKey]*label{}}
	for i := range a.cfg.Lanes {
		a.laneCol = append(a.laneCol, toRGBA(a.theme.LaneColors[i%len(a.theme.LaneColors)]))
	}
	if a.theme.BackgroundImage != nil {
		a.bgImg = newImageFromImage(a.theme.BackgroundImage)
	}
	a.logoImg = newThemeImg(a.theme.Logo)
	a.themed = [3]*themeImg{newThemeImg(a.theme.Target), newThemeImg(a.theme.Packet), newThemeImg(a.theme.Golden)}
	a.hits = make([]game.Hit, 0, game.HitRing)
	a.gone = make([]game.Gone, 0, game.GoneRing)
	a.ranks = make([]int, 0, game.MaxLanes)
	a.num = make([]byte, 0, 32)
	a.scaler = newScaler(a.cfg.Render)
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

// Draw draws the scene the show returns for now; it changes nothing in the show. Below render
// scale 1 the wall is drawn into a smaller image and scaled up to the window (linear filter); the
// screenshot is always drawn at scale 1.
func (a *App) Draw(screen *ebiten.Image) {
	now := a.opt.Clock()
	sc := a.opt.Driver.Scene(now)
	b := screen.Bounds()
	minimised := b.Dx() <= 0 || b.Dy() <= 0 // nothing to draw into
	if path, ok := a.opt.Driver.Shot(); ok {
		if minimised {
			a.opt.Driver.Drawn(now, 1, errors.New("screenshot: the window is minimised"))
			return
		}
		off := newImage(b.Dx(), b.Dy())
		a.drawFrame(off, sc)
		err := writePNG(off, path)
		screen.DrawImage(off, nil)
		off.Deallocate()
		a.opt.Driver.Drawn(now, 1, err)
		return
	}
	s := a.scaler.frame(now)
	if minimised {
		a.opt.Driver.Drawn(now, s, nil)
		return
	}
	if s >= 1 {
		a.drawFrame(screen, sc)
	} else {
		w, h := max(1, int(math.Round(float64(b.Dx())*s))), max(1, int(math.Round(float64(b.Dy())*s)))
		if a.off == nil || a.off.Bounds().Dx() != w || a.off.Bounds().Dy() != h {
			if a.off != nil {
				a.off.Deallocate()
			}
			a.off = newImage(w, h)
		}
		a.drawFrame(a.off, sc)
		a.offOp.GeoM.Reset()
		a.offOp.GeoM.Scale(float64(b.Dx())/float64(w), float64(b.Dy())/float64(h))
		a.offOp.Filter = ebiten.FilterLinear
		screen.DrawImage(a.off, &a.offOp)
	}
	a.opt.Driver.Drawn(now, s, nil)
}

// drawFrame draws the wall and, over it, what the operator asked to see on it (calibration
// crosshair, the rehearsal corner strip).
func (a *App) drawFrame(dst *ebiten.Image, sc *scene.Scene) {
	a.drawScene(dst, sc)
	if a.opt.Crosshair != nil {
		if x, y, label, ok := a.opt.Crosshair(); ok {
			a.drawCrosshair(dst, x, y, label)
		}
	}
	if sc.Overlay != nil {
		a.drawOverlay(dst, sc.Overlay)
	}
}

// scaleImage resamples src to w x h pixels (Catmull-Rom), so a large theme image stays smooth when
// drawn small.
func scaleImage(src image.Image, w, h float64) image.Image {
	dst := image.NewRGBA(image.Rect(0, 0, max(1, int(math.Ceil(w))), max(1, int(math.Ceil(h)))))
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), xdraw.Over, nil)
	return dst
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
