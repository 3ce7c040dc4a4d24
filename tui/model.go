package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/watchparty/watchparty/room"
	"github.com/watchparty/watchparty/tui/comments"
	"github.com/watchparty/watchparty/tui/header"
	"github.com/watchparty/watchparty/tui/members"
	"github.com/watchparty/watchparty/tui/nowplaying"
	"github.com/watchparty/watchparty/tui/toast"
)

// Model is the root model of the screen. It routes messages: room events to the components that
// show them, keys to session actions (run as commands) or to the comment input. Build it with
// New. It is a value; Bubble Tea owns it, so it is not for concurrent use.
type Model struct {
	ctrl   room.Controls
	ctx    context.Context
	opts   Options
	keys   KeyMap
	styles Styles
	clock  func() time.Time

	width, height int
	now           time.Time
	snap          room.Snapshot

	header     header.Model
	nowPlaying nowplaying.Model
	members    members.Model
	comments   comments.Model
	toasts     toast.Model
	help       help.Model

	showHelp bool
	// handing: H was pressed; the next key picks the member (1–9) to hand the host role to.
	handing bool
	// confirmingStart: the host's play waits for members not ready; y starts anyway (ready.go).
	confirmingStart bool
	// moderating: m was pressed (1: the next key picks a member; 2: it picks what to do to
	// modTarget). removed: the host removed us; the screen says so until q.
	moderating int
	modTarget  room.MemberView
	removed    string
	tickTag    int
	// turn is closed when the last action sent has returned (the next one waits for it).
	turn    chan struct{}
	leaving bool           // the user quit; waiting for Leave
	left    bool           // Leave returned
	closed  bool           // the session sent Closed
	end     room.EndReason // why, once closed
	done    bool           // quitting: let Bubble Tea's quit through
	err     error          // returned by Run
}

// closedTurn is the turn of a model that has sent no action yet.
var closedTurn = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func newModel(ctx context.Context, ctrl room.Controls, opts Options) Model {
	opts = opts.withDefaults()
	st := NewStyles(opts.NoColor)
	hm := help.New()
	hm.Styles = st.Help
	m := Model{
		ctrl:       ctrl,
		ctx:        ctx,
		opts:       opts,
		keys:       DefaultKeyMap(),
		styles:     st,
		clock:      time.Now,
		header:     header.New(st.Header, Sanitize(opts.JoinCommand)),
		nowPlaying: nowplaying.New(st.NowPlaying),
		members:    members.New(st.Members),
		comments:   comments.New(st.Comments, opts.Location),
		toasts:     toast.New(st.Toast),
		help:       hm,
		tickTag:    1,
		turn:       closedTurn,
	}
	m.now = m.clock()
	m.setSnapshot(ctrl.Snapshot())
	return m
}

// Init starts listening to the session and the screen's clock.
func (m Model) Init() tea.Cmd {
	return tea.Batch(waitForEvent(m.ctx, m.ctrl.Events()), tick(m.ctx, m.tickTag))
}

// Update routes one message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case eventMsg:
		return m.handleEvent(msg.ev)
	case actionMsg:
		return m.handleResult(msg), nil
	case leftMsg:
		m.left, m.done = true, true
		if msg.err != nil && m.err == nil {
			m.err = fmt.Errorf("leave room: %w", msg.err)
		}
		return m, tea.Quit
	case tickMsg:
		if msg.tag != m.tickTag {
			return m, nil
		}
		m.setNow(msg.at)
		return m, tick(m.ctx, m.tickTag)
	case quitRequestMsg:
		return m.quit()
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	case tea.PasteMsg:
		return m.paste(msg)
	}
	if m.comments.Focused() { // cursor messages
		var cmd tea.Cmd
		m.comments, cmd = m.comments.Update(msg)
		return m, cmd
	}
	return m, nil
}

func (m Model) handleEvent(ev room.Event) (tea.Model, tea.Cmd) {
	m.setNow(m.clock())
	switch ev := ev.(type) {
	case room.StateChanged:
		m.setSnapshot(ev.Snapshot)
	case room.CommentsLoaded:
		cs := make([]room.Comment, len(ev.Comments))
		for i, c := range ev.Comments {
			cs[i] = sanitizeComment(c)
		}
		m.comments.SetComments(cs)
	case room.CommentReceived:
		m.comments.Add(sanitizeComment(ev.Comment))
	case room.Notice:
		m.pushNotice(ev.Level, Sanitize(ev.Text), m.now)
	case room.Closed:
		m.closed, m.end = true, ev.Reason
		if ev.Err != nil && m.err == nil {
			m.err = ev.Err
		}
		if ev.Reason == room.EndRemoved && !m.leaving {
			// Keep the screen: it says who removed us until the user quits.
			m.removed = "you were removed from the room"
			if ev.Err != nil {
				m.removed = Sanitize(ev.Err.Error())
			}
			return m, nil
		}
		if m.leaving {
			return m, nil // leftMsg ends the program
		}
		m.done = true
		return m, tea.Quit
	}
	m.layout() // the header and toasts may have changed height
	return m, waitForEvent(m.ctx, m.ctrl.Events())
}

func (m Model) handleResult(r actionMsg) Model {
	if r.err == nil {
		return m
	}
	var nr *room.NotReadyError
	if errors.As(r.err, &nr) {
		return m.askStart(nr)
	}
	text := r.name + ": " + Sanitize(r.err.Error())
	if errors.Is(r.err, room.ErrNotHost) {
		text = r.name + ": " + room.ErrNotHost.Error()
	}
	m.pushNotice(room.NoticeError, text, m.clock())
	if r.text != "" && m.comments.Value() == "" {
		m.comments.SetValue(r.text) // lose nothing: give the comment back
	}
	m.layout()
	return m
}

func (m Model) handleKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.keys
	if m.leaving {
		if key.Matches(msg, k.ForceQuit) { // a second ctrl+c stops waiting for the server
			m.done = true
			return m, tea.Quit
		}
		return m, nil
	}
	if m.tooSmall() {
		// Behind "the terminal is too small" nothing is shown, so nothing acts but quitting.
		if key.Matches(msg, k.Quit) {
			return m.quit()
		}
		return m, nil
	}
	if m.comments.Focused() {
		return m.handleInputKey(msg)
	}
	if m.removed != "" {
		if key.Matches(msg, k.Quit) {
			return m.quit()
		}
		return m, nil
	}
	if m.handing {
		return m.pickHeir(msg)
	}
	if m.confirmingStart {
		return m.answerStart(msg)
	}
	if m.moderating > 0 {
		return m.pickModeration(msg)
	}
	if m.showHelp && (key.Matches(msg, k.Help) || msg.String() == "esc") {
		m.showHelp = false
		return m, nil
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		m.showHelp = true
	case key.Matches(msg, k.PlayPause):
		return m.hostAction("play/pause", func(ctx context.Context) error { return m.ctrl.TogglePlay(ctx) })
	case key.Matches(msg, k.Back):
		return m.seekBy(-shortSeek)
	case key.Matches(msg, k.Forward):
		return m.seekBy(shortSeek)
	case key.Matches(msg, k.BackLong):
		return m.seekBy(-longSeek)
	case key.Matches(msg, k.ForwardLong):
		return m.seekBy(longSeek)
	case key.Matches(msg, k.Jump):
		f := float64(msg.String()[0]-'0') / 10
		return m.hostAction(fmt.Sprintf("jump to %d%%", int(f*100)),
			func(ctx context.Context) error { return m.ctrl.SeekFraction(ctx, f) })
	case key.Matches(msg, k.SyncToLive):
		if m.snap.IsHost {
			m.toasts.Push(room.NoticeInfo, "s syncs a follower to the room; you are the host: the room follows you", m.clock())
			m.layout()
			return m, nil
		}
		cmd := m.send("sync to live", "", m.ctrl.SyncToLive)
		return m, cmd
	case key.Matches(msg, k.Handover):
		return m.startHandover()
	case key.Matches(msg, k.EndWait):
		return m.hostAction("don't wait", func(ctx context.Context) error { return m.ctrl.EndWait(ctx) })
	case key.Matches(msg, k.Ready):
		return m.toggleReady()
	case key.Matches(msg, k.ReadyMode):
		on := !m.snap.ReadyMode
		return m.hostAction("ready check "+onOff(on), func(ctx context.Context) error { return m.ctrl.SetReadyMode(ctx, on) })
	case key.Matches(msg, k.Moderate):
		return m.startModeration()
	case key.Matches(msg, k.Invite):
		m.showInvite()
		return m, nil
	case key.Matches(msg, k.OSD):
		state := "off"
		if m.ctrl.ToggleOSD() {
			state = "on"
		}
		m.toasts.Push(room.NoticeInfo, "comments on the video: "+state, m.clock())
		m.layout()
	case key.Matches(msg, k.Comment):
		m.showHelp = false
		return m, m.comments.Focus()
	case key.Matches(msg, k.PageUp):
		m.comments.PageUp()
	case key.Matches(msg, k.PageDown):
		m.comments.PageDown()
	case key.Matches(msg, k.Latest):
		m.comments.ToLatest()
	}
	return m, nil
}

// handleInputKey handles a key while the comment input has the focus: most keys type.
func (m Model) handleInputKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.keys
	switch {
	case key.Matches(msg, k.ForceQuit):
		return m.quit()
	case key.Matches(msg, k.Send):
		// enter sends and goes back to the keys (q, space… act again); an empty input just
		// goes back.
		text := strings.TrimSpace(m.comments.Value())
		m.comments.Blur()
		m.comments.SetValue("")
		if text == "" {
			return m, nil
		}
		cmd := m.send("comment", text, func(ctx context.Context) error { return m.ctrl.Comment(ctx, text) })
		return m, cmd
	case key.Matches(msg, k.LeaveInput):
		m.comments.Blur()
		return m, nil
	case key.Matches(msg, k.PageUp):
		m.comments.PageUp()
		return m, nil
	case key.Matches(msg, k.PageDown):
		m.comments.PageDown()
		return m, nil
	}
	var cmd tea.Cmd
	m.comments, cmd = m.comments.Update(msg)
	return m, cmd
}

// paste takes pasted text (bracketed paste: one message, not a key per character): into the
// comment input, which it opens when the keys had the focus, so a paste never acts as keys.
// What does not fit in a comment is cut, and a notice says so.
func (m Model) paste(msg tea.PasteMsg) (tea.Model, tea.Cmd) {
	if m.leaving || m.tooSmall() {
		return m, nil
	}
	var cmds []tea.Cmd
	if !m.comments.Focused() {
		m.showHelp = false
		cmds = append(cmds, m.comments.Focus())
	}
	space := comments.MaxLength - len([]rune(m.comments.Value()))
	if n := len([]rune(msg.Content)); n > space {
		msg.Content = string([]rune(msg.Content)[:max(space, 0)])
		m.toasts.Push(room.NoticeWarn, fmt.Sprintf("pasted text cut to fit a comment (%d characters at most)", comments.MaxLength), m.clock())
		m.layout()
	}
	var cmd tea.Cmd
	m.comments, cmd = m.comments.Update(msg)
	return m, tea.Batch(append(cmds, cmd)...)
}

// tooSmall reports whether the screen is below the size the layout is made for: it then shows
// only a note to make it bigger.
func (m Model) tooSmall() bool {
	return m.width > 0 && m.height > 0 && (m.width < MinWidth || m.height < MinHeight)
}

// pushNotice shows a notice, once: a failed action is reported both by the session (a notice,
// for actions made in mpv's window too) and by the action's own result, as "play failed: X"
// and "play/pause: X"; the second of the two with the same error only renews the first.
func (m *Model) pushNotice(level room.NoticeLevel, text string, now time.Time) {
	if level == room.NoticeError {
		if _, tail, ok := strings.Cut(text, ": "); ok {
			for _, t := range m.toasts.Texts() {
				if _, other, ok := strings.Cut(t, ": "); ok && other == tail && t != text {
					return
				}
			}
		}
	}
	m.toasts.Push(level, text, now)
}

func (m Model) seekBy(delta float64) (tea.Model, tea.Cmd) {
	return m.hostAction(fmt.Sprintf("seek %+.0f s", delta),
		func(ctx context.Context) error { return m.ctrl.SeekBy(ctx, delta) })
}

// heirs are the members the host role can be handed to, numbered 1–9 in the list's order.
func (m Model) heirs() []room.MemberView {
	var out []room.MemberView
	for _, mv := range m.snap.Members {
		if !mv.IsSelf && len(out) < 9 {
			out = append(out, mv)
		}
	}
	return out
}

// startHandover asks which member to hand the host role to (H).
func (m Model) startHandover() (tea.Model, tea.Cmd) {
	if !m.snap.IsHost {
		m.toasts.Push(room.NoticeWarn, "hand-over is for the host: "+room.ErrNotHost.Error(), m.clock())
		m.layout()
		return m, nil
	}
	heirs := m.heirs()
	if len(heirs) == 0 {
		m.toasts.Push(room.NoticeInfo, "nobody else is here to hand the host role to", m.clock())
		m.layout()
		return m, nil
	}
	var b strings.Builder
	b.WriteString("hand the host role to:")
	for i, h := range heirs {
		fmt.Fprintf(&b, "  %d %s", i+1, h.Name)
	}
	b.WriteString("  (any other key cancels)")
	m.handing, m.showHelp = true, false
	m.toasts.Push(room.NoticeInfo, b.String(), m.clock())
	m.layout()
	return m, nil
}

// pickHeir takes the key after H: a member's number hands the role over; anything else cancels.
func (m Model) pickHeir(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	m.handing = false
	heirs := m.heirs()
	if s := msg.String(); len(s) == 1 && s[0] >= '1' && int(s[0]-'1') < len(heirs) {
		h := heirs[s[0]-'1']
		return m.hostAction("hand the host role to "+h.Name, func(ctx context.Context) error { return m.ctrl.Handover(ctx, h.UserID) })
	}
	m.toasts.Push(room.NoticeInfo, "hand-over cancelled", m.clock())
	m.layout()
	return m, nil
}

// hostAction runs a playback action of the host (or a co-host), or on a follower's screen says
// that it is for the host.
func (m Model) hostAction(name string, fn func(context.Context) error) (tea.Model, tea.Cmd) {
	if !m.snap.IsHost && !m.snap.IsCohost {
		m.toasts.Push(room.NoticeWarn, name+" is for the host: "+room.ErrNotHost.Error(), m.clock())
		m.layout()
		return m, nil
	}
	cmd := m.send(name, "", fn)
	return m, cmd
}

// send runs an action against the session in a command. The session carries actions out one
// at a time, in the order they reach it; Bubble Tea starts commands concurrently, so each
// action waits for the one before it to return (see turn), which keeps the keys' order.
func (m *Model) send(name, text string, fn func(context.Context) error) tea.Cmd {
	prev, next := m.turn, make(chan struct{})
	m.turn = next
	return action(m.ctx, m.opts.ActionTimeout, name, text, func(ctx context.Context) error {
		defer close(next)
		select {
		case <-prev:
		case <-ctx.Done():
			return ctx.Err()
		}
		return fn(ctx)
	})
}

// quit starts leaving the room; leftMsg ends the program. Asked again while leaving (a
// second Ctrl-C or signal), it quits at once: Run then cuts the leave short.
func (m Model) quit() (tea.Model, tea.Cmd) {
	if m.leaving {
		m.done = true
		return m, tea.Quit
	}
	if m.closed {
		m.done = true
		return m, tea.Quit
	}
	m.leaving = true
	m.comments.Blur()
	m.header.SetLeaving(true)
	return m, leave(m.ctx, m.ctrl, m.opts.LeaveTimeout)
}

func (m *Model) setNow(t time.Time) {
	m.now = t
	m.header.SetNow(t)
	m.toasts.Tick(t)
	m.layout()
}

func (m *Model) setSnapshot(s room.Snapshot) {
	m.snap = sanitizeSnapshot(s)
	m.header.SetSnapshot(m.snap)
	m.nowPlaying.SetSnapshot(m.snap)
	m.members.SetMembers(m.snap.Members)
	m.members.SetReadyMode(m.snap.ReadyMode)
	m.comments.SetSelf(m.snap.SelfID)
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// toggleReady answers the ready check (r): ready, or not ready again. Without the room's ready
// mode there is no check to answer, and the key says so.
func (m Model) toggleReady() (tea.Model, tea.Cmd) {
	if !m.snap.ReadyMode {
		text := "no ready check in this room: the host starts one with R"
		if m.snap.IsHost {
			text = "no ready check in this room: R starts one"
		}
		m.toasts.Push(room.NoticeInfo, text, m.clock())
		m.layout()
		return m, nil
	}
	ready := true
	for _, mv := range m.snap.Members {
		if mv.IsSelf {
			ready = !mv.Ready
		}
	}
	name := "ready"
	if !ready {
		name = "not ready"
	}
	return m, m.send(name, "", func(ctx context.Context) error { return m.ctrl.SetReady(ctx, ready) })
}

// askStart asks the host whether to start although some are not ready: the room's start is
// pending meanwhile, and goes ahead by itself when they are.
func (m Model) askStart(nr *room.NotReadyError) Model {
	m.confirmingStart, m.handing, m.showHelp = true, false, false
	m.toasts.Push(room.NoticeWarn, "start anyway: "+Sanitize(nr.Summary())+"? y/n", m.clock())
	m.layout()
	return m
}

// answerStart takes the key after the start-anyway question: y plays at once; anything else
// leaves the room to start when everyone is ready.
func (m Model) answerStart(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	m.confirmingStart = false
	if s := msg.String(); s == "y" || s == "Y" {
		return m.hostAction("start anyway", m.ctrl.ForcePlay)
	}
	m.toasts.Push(room.NoticeInfo, "starting when everyone is ready", m.clock())
	m.layout()
	return m, nil
}
