// The control panel: Start, Stop, Quit, the users target and the run
// settings form, sent as authenticated POSTs, plus the phase badge whose
// phase gates them and the run settings summary.

import { forgetStoredToken, getToken, isTokenNeeded, setTokenNeeded } from "./connection";
import { optionalElement, requireElement } from "./dom";
import {
  addDescribedBy,
  FollowedField,
  removeDescribedBy,
  setReadOnly,
} from "./follow";
import { formatInt } from "./format";
import { settingsSummary } from "./run-settings";
import { SettingsBody, SettingsForm } from "./settings-form";
import { announce, setBanner } from "./status";

type ControlStatusKind = "info" | "ok" | "error";

interface ControlResultBody {
  ok?: boolean;
  command?: string;
  error?: string;
  message?: string;
  phase?: string;
  active_users?: number;
  target_users?: number | null;
  /** The setting at fault in a refusal. */
  field?: string | null;
  /** The run settings after a settings request or a Start with settings. */
  settings?: SnapshotSettings;
  /** Why a request was refused as cross site or from another host name. */
  reason?: string;
}

/** Where each Controller listens, or null when it is off. */
interface HealthControllers {
  telnet: string | null;
  websocket: string | null;
}

interface HealthBody {
  control_enabled?: boolean;
  /** False only under --dashboard-no-auth. */
  auth_required?: boolean;
  /** Whether the dashboard is bound to a loopback address. */
  loopback?: boolean;
  controllers?: HealthControllers;
}

const phaseBadge = requireElement("phase-badge", HTMLElement);
const subtitleEl = optionalElement("subtitle", HTMLElement);
const footerNoteEl = optionalElement("footer-note", HTMLElement);
const controlPanel = optionalElement("control-panel", HTMLElement);
const ctrlNotice = optionalElement("ctrl-notice", HTMLElement);
const noAuthBanner = optionalElement("no-auth-banner", HTMLElement);
const ctrlStart = optionalElement("ctrl-start", HTMLButtonElement);
const ctrlStop = optionalElement("ctrl-stop", HTMLButtonElement);
const ctrlQuit = optionalElement("ctrl-quit", HTMLButtonElement);
const ctrlActive = optionalElement("ctrl-active", HTMLElement);
const ctrlTarget = optionalElement("ctrl-target", HTMLInputElement);
const ctrlApply = optionalElement("ctrl-apply", HTMLButtonElement);
const ctrlMinus = optionalElement("ctrl-minus", HTMLButtonElement);
const ctrlPlus = optionalElement("ctrl-plus", HTMLButtonElement);
const ctrlStep = optionalElement("ctrl-step", HTMLInputElement);
const ctrlStatus = optionalElement("ctrl-status", HTMLElement);
const ctrlSummary = optionalElement("ctrl-summary", HTMLElement);
const ctrlTargetHelp = optionalElement("ctrl-target-help", HTMLElement);
const ctrlTargetReason = optionalElement("ctrl-target-reason", HTMLElement);
const setApply = optionalElement("set-apply", HTMLButtonElement);
const setDiscard = optionalElement("set-discard", HTMLButtonElement);
const setReasonEl = optionalElement("set-reason", HTMLElement);
const hostConfirm = optionalElement("set-host-confirm", HTMLElement);
const hostConfirmText = optionalElement("set-host-confirm-text", HTMLElement);
const hostConfirmOk = optionalElement("set-host-confirm-ok", HTMLButtonElement);
const hostConfirmCancel = optionalElement("set-host-confirm-cancel", HTMLButtonElement);

/** Help under the Target row: which settings a mid run change uses. */
const TARGET_HELP =
  "Mid run changes ramp at the increase rate when adding users and the decrease rate (else the increase rate) when removing them, 1 per second when neither is set; increase and decrease times are not used.";
/** Help under the Target row in Idle with a test plan configured. */
const TARGET_HELP_PLAN = "Applying a user count replaces the test plan with a users ramp.";
/** The Target row's reason in Idle while the form has other edits. */
const TARGET_WITH_EDITS =
  "Sent with your other edits: use Start with changes or Apply settings";
/** The form's reason with no token. */
const NO_TOKEN = "Enter the control token to change settings";

// Control panel state
let controlEnabled = false;
// Health said the dashboard takes no token (--dashboard-no-auth).
let noAuth = false;
// The health probe failed, so whether control is on is unknown.
let probeFailed = false;
// The Target field: follows the server unless being edited.
const targetField = ctrlTarget
  ? new FollowedField(ctrlTarget, "Target", (text) => {
      setControlStatus(text, "info");
    })
  : null;
// The run settings form, when the page has one.
const form = SettingsForm.find(
  () => {
    updateControlEnablement();
  },
  (text) => {
    setControlStatus(text, "info");
  }
);
// The host confirmation is asked once per page load.
let hostConfirmed = false;
// The open host confirmation: the destination it shows, what it goes on to
// do, and the button it returns focus to.
let confirming: HostConfirmation | null = null;
let step = 10;
let inFlight = false;
let lastSnap: DashboardSnapshot | null = null;
let currentPhase = "idle";
// Where the run is, from the latest snapshot's settings.
let currentStage = "idle";
let seenPhase: string | null = null;
// A cancel is in progress: the server refuses Users until idle.
let stopping = false;
let controlTokenMissing = false;
// The Controllers health reported, or null before it answers or when it did
// not say (a failed probe).
let controllers: HealthControllers | null = null;

/** An open host confirmation. */
interface HostConfirmation {
  trigger: HTMLButtonElement;
  destination: string;
  then: () => void;
}

/** True while control is on and the page has no token. */
export function isControlTokenMissing(): boolean {
  return controlTokenMissing;
}

/** Whether this page may send control requests: it has the token, or the
 * dashboard takes none. */
function hasAccess(): boolean {
  return !isTokenNeeded() || !!getToken();
}

/** True once health says control is on. */
export function isControlEnabled(): boolean {
  return controlEnabled;
}

/**
 * Shows the phase. Only snapshots announce a change: a control response can
 * run ahead of a snapshot taken just before the command, and announcing both
 * would flap the phase.
 */
export function setPhase(
  phase: string | undefined,
  fromSnapshot = true
): void {
  const p = (phase || "idle").toLowerCase();
  const known: Record<string, boolean> = {
    idle: true,
    increase: true,
    maintain: true,
    decrease: true,
    shutdown: true,
  };
  const cls = known[p] ? p : "idle";
  // The first phase the page sees is not a change.
  if (fromSnapshot) {
    if (seenPhase !== null && seenPhase !== cls) {
      announce(cls === "idle" ? "Test finished." : "Phase: " + cls + ".");
    }
    seenPhase = cls;
  }
  currentPhase = cls;
  phaseBadge.className = "phase-badge phase-" + cls;
  phaseBadge.textContent = p;
}

function setControlStatus(text: string, kind?: ControlStatusKind): void {
  if (!ctrlStatus) return;
  ctrlStatus.textContent = text || "";
  ctrlStatus.className = "control-status" + (kind ? " " + kind : "");
}

// Mark the Target field invalid and described by the status line, or clear
// both: the status line also carries other results, so it describes the field
// only while the field is invalid. Its other descriptions stay.
function setTargetInvalid(invalid: boolean): void {
  if (!ctrlTarget) return;
  if (invalid) {
    ctrlTarget.setAttribute("aria-invalid", "true");
    addDescribedBy(ctrlTarget, "ctrl-status");
  } else {
    ctrlTarget.removeAttribute("aria-invalid");
    removeDescribedBy(ctrlTarget, "ctrl-status");
  }
}

/**
 * The server's value for the Target field, as text: in Idle the configured
 * users the next Start runs (empty with a test plan); while running the
 * count the current step ramps toward. A 0 target (a cancel's ramp to zero)
 * falls back to the peak, then to the active users; `null` when there is
 * nothing to show.
 */
function serverTarget(snap: DashboardSnapshot): string | null {
  if (snap.phase === "idle") {
    return snap.settings.users == null ? "" : String(snap.settings.users);
  }
  for (const users of [snap.target_users, snap.maximum_users, snap.active_users]) {
    if (users >= 1) return String(users);
  }
  return null;
}

/** Why the Target row cannot change users now, or "" when it can. */
function targetReason(hasToken: boolean): string {
  if (!hasToken) return NO_TOKEN;
  if (currentStage === "test_plan") {
    return "The test plan sets users; edit the plan, or stop and switch mode";
  }
  if (currentStage === "stopping") return "Users change again once the run is idle";
  return "";
}

/** Show `text` as the field's reason, or remove it. */
function setReason(el: HTMLElement | null, input: HTMLInputElement | null, text: string): void {
  if (!el) return;
  el.textContent = text;
  el.hidden = text === "";
  if (!input) return;
  if (text === "") {
    removeDescribedBy(input, el.id);
  } else {
    addDescribedBy(input, el.id);
  }
}

function readStep(): number {
  let n = parseInt(ctrlStep && ctrlStep.value ? ctrlStep.value : "", 10);
  if (!isFinite(n) || n < 1) n = 10;
  step = n;
  return step;
}

// aria-disabled, not disabled: a disabled button drops keyboard focus.
function setAvailable(button: HTMLButtonElement | null, on: boolean): void {
  if (button) button.setAttribute("aria-disabled", on ? "false" : "true");
}

function unavailable(button: HTMLButtonElement | null): boolean {
  return !button || button.getAttribute("aria-disabled") === "true";
}

/** Whether the Target row's edit goes with the form's: in Idle only. */
function targetPending(): boolean {
  return currentStage === "idle" && !!targetField && targetField.pending();
}

/** Unapplied edits: the form's, and in Idle the Target row's. */
function pendingCount(): number {
  return (form ? form.pendingCount() : 0) + (targetPending() ? 1 : 0);
}

function updateControlEnablement(): void {
  if (!controlPanel || !controlEnabled) return;

  const hasToken = hasAccess();
  const phase = currentPhase || "idle";
  const canStart = hasToken && !inFlight && phase === "idle";
  const pending = pendingCount();
  const formPending = form ? form.pendingCount() : 0;
  if (ctrlStart) {
    ctrlStart.textContent = phase === "idle" && pending > 0 ? "Start with changes" : "Start";
  }
  if (form) form.update(hasToken && !inFlight);
  setAvailable(setApply, hasToken && !inFlight && pending > 0 && currentStage !== "stopping");
  setAvailable(setDiscard, hasToken && !inFlight && pending > 0);
  setReason(setReasonEl, null, hasToken ? "" : NO_TOKEN);
  if (form) form.setPendingLabel(pending);
  const canStop =
    hasToken && !inFlight && (phase === "increase" || phase === "maintain");
  const reason = targetReason(hasToken);
  const canUsers =
    reason === "" &&
    !inFlight &&
    !stopping &&
    (phase === "idle" ||
      phase === "increase" ||
      phase === "maintain" ||
      phase === "decrease");

  setAvailable(ctrlStart, canStart);
  setAvailable(ctrlStop, canStop);
  // Quit only shuts Goose down from idle, so it shows only then. A focused
  // Quit that hides hands focus to Start, the first button in its row.
  if (ctrlQuit) {
    const focused = document.activeElement === ctrlQuit;
    ctrlQuit.hidden = phase !== "idle";
    setAvailable(ctrlQuit, hasToken && !inFlight);
    if (focused && ctrlQuit.hidden && ctrlStart) ctrlStart.focus();
  }
  // In Idle with other edits, the Target goes with them, so its own Apply
  // waits and plus and minus only change the field.
  const withEdits = currentStage === "idle" && formPending > 0;
  setAvailable(ctrlApply, canUsers && !withEdits);
  setAvailable(ctrlMinus, canUsers);
  setAvailable(ctrlPlus, canUsers);
  // Read only, never disabled, so focus stays and the reason is read.
  if (ctrlTarget) setReadOnly(ctrlTarget, reason !== "" || inFlight);
  if (ctrlStep) setReadOnly(ctrlStep, reason !== "" || inFlight);
  const shown = reason !== "" ? reason : withEdits ? TARGET_WITH_EDITS : "";
  setReason(ctrlTargetReason, ctrlTarget, shown);
  // The help says how a change applies, so it goes while the reason says
  // none can; out of aria-describedby too, where hidden text is still read.
  if (ctrlTargetHelp) {
    ctrlTargetHelp.hidden = shown !== "";
    if (ctrlTarget) {
      if (shown === "") {
        addDescribedBy(ctrlTarget, ctrlTargetHelp.id);
      } else {
        removeDescribedBy(ctrlTarget, ctrlTargetHelp.id);
      }
    }
  }

  if (!hasToken) {
    controlPanel.classList.add("disabled");
  } else {
    controlPanel.classList.remove("disabled");
  }
  refreshHostConfirm();
}

/** Notes for a stage the Target row cannot change users in. */
function stageReason(stage: string): string {
  if (stage === "test_plan") return "Test plan running";
  if (stage === "stopping") return "Run stopping";
  return "";
}

export function updateControlFromSnapshot(snap: DashboardSnapshot): void {
  if (!controlEnabled || !controlPanel) return;
  lastSnap = snap;
  stopping = snap.stopping === true;
  const settings = snap.settings;
  const before = currentStage;
  currentStage = settings.stage;

  if (ctrlActive) {
    ctrlActive.textContent = formatInt(snap.active_users);
  }
  if (ctrlSummary) {
    ctrlSummary.textContent = settingsSummary(settings, true);
  }

  if (form) form.fromSnapshot(settings);
  if (targetField) {
    // An edit the run can no longer take is discarded, said once.
    const reason = stageReason(currentStage);
    if (reason !== "" && reason !== stageReason(before)) {
      targetField.discard(reason);
    }
    targetField.fromServer(serverTarget(snap));
    if (!targetField.pending()) setTargetInvalid(false);
  }
  if (ctrlTargetHelp) {
    ctrlTargetHelp.textContent =
      snap.phase === "idle" && settings.test_plan != null ? TARGET_HELP_PLAN : TARGET_HELP;
  }

  updateControlEnablement();
}

// Control POSTs: Bearer only — never append ?token= (do not use withToken).
function postControl(
  path: string,
  body?: { users: number } | SettingsBody | undefined
): Promise<Response> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
  };
  const token = getToken();
  if (token) {
    headers["Authorization"] = "Bearer " + token;
  }
  return fetch(path, {
    method: "POST",
    headers: headers,
    body: body === undefined ? "{}" : JSON.stringify(body),
  });
}
function handleControlResponse(
  res: Response,
  appliedUsers?: number
): Promise<ControlResultBody | null> {
  // Whatever happens, a users value this tab sent is settled by the reply.
  const settle = (data: ControlResultBody | null): void => {
    if (!targetField || typeof appliedUsers !== "number") return;
    if (data && data.ok) {
      targetField.accepted(String(appliedUsers));
    } else {
      targetField.refused(String(appliedUsers));
    }
  };
  return handleControlBody(res).then((data) => {
    settle(data);
    return data;
  });
}

function handleControlBody(res: Response): Promise<ControlResultBody | null> {
  if (res.status === 401) {
    forgetStoredToken();
    setBanner(
      "Open this dashboard as http://host:port/?token=… (token required for control).",
      "error"
    );
    setControlStatus("Unauthorized — reopen with ?token=", "error");
    return Promise.resolve(null);
  }
  if (res.status === 503) {
    // Prefer server message: timeout vs busy vs unavailable. Never blind-retry
    // on timeout — the action may still be applying on the load generator.
    return res.json().then(
      (body: ControlResultBody) => {
        const err = body && body.error ? String(body.error) : "";
        const msg =
          body && body.message
            ? String(body.message)
            : "Control unavailable";
        if (err === "timeout") {
          setControlStatus(
            "Timed out — check phase/users before retrying",
            "error"
          );
        } else if (err === "busy") {
          setControlStatus("Control busy — wait and retry", "error");
        } else {
          setControlStatus(msg, "error");
        }
        return null;
      },
      () => {
        setControlStatus("Control unavailable", "error");
        return null;
      }
    );
  }
  return res.json().then(
    (data: ControlResultBody) => {
      if (!data) {
        setControlStatus("Unexpected control response", "error");
        return null;
      }
      if (data.ok) {
        setControlStatus(
          data.command === "quit"
            ? "Goose is shutting down."
            : data.message || "OK",
          "ok"
        );
        if (data.phase) {
          setPhase(data.phase, false);
        }
        // Lock the user controls now rather than at the next snapshot.
        if (data.command === "stop") {
          stopping = true;
        }
        updateControlEnablement();
        return data;
      }
      setControlStatus(data.message || refusalText(data.reason), "error");
      if (data.field === "users") setTargetInvalid(true);
      if (data.phase) {
        setPhase(data.phase, false);
      }
      updateControlEnablement();
      return data;
    },
    () => {
      setControlStatus("HTTP " + res.status, "error");
      return null;
    }
  );
}

/** What a refusal without a message says, by its reason. */
function refusalText(reason: string | undefined): string {
  if (reason === "cross_origin") {
    return "Refused: the request's Origin doesn't match this dashboard's address (another site, or a proxy)";
  }
  if (reason === "host_not_allowed") {
    return "Refused: open the dashboard by its IP address or its --dashboard-host name";
  }
  return "Control rejected";
}

function runControl(
  path: string,
  body?: { users: number } | SettingsBody,
  appliedUsers?: number,
  settled?: (data: ControlResultBody | null) => void
): void {
  if (inFlight || !controlEnabled || !hasAccess()) return;
  inFlight = true;
  updateControlEnablement();
  // The status line is about to stop describing an invalid Target.
  setTargetInvalid(false);
  setControlStatus("Sending…", "info");
  postControl(path, body)
    .then((res) => handleControlResponse(res, appliedUsers))
    .catch((err: unknown) => {
      setControlStatus("Request failed: " + String(err), "error");
      return null;
    })
    .then((data) => {
      inFlight = false;
      if (settled) settled(data);
      updateControlEnablement();
    });
}

/**
 * Send the pending edits to `path`, Apply settings or a Start with changes,
 * with the Target row's users in Idle. A refusal naming a setting opens the
 * form, marks the field and moves focus to it.
 */
function sendSettings(path: string): void {
  if (!form) return;
  const body = form.body();
  let users: number | undefined;
  if (targetPending() && targetField) {
    users = parseInt(targetField.text(), 10);
    body.users = users;
    targetField.sending(String(users));
  }
  form.sending();
  runControl(path, body, users, (data) => {
    const ok = !!(data && data.ok);
    form.settled(ok, data && data.settings ? data.settings : null);
    if (ok && data && data.settings && ctrlSummary) {
      ctrlSummary.textContent = settingsSummary(data.settings, true);
    }
    if (!ok && data && data.field) {
      if (data.field === "users" && ctrlTarget) {
        setTargetInvalid(true);
        ctrlTarget.focus();
      } else {
        form.focusField(data.field);
      }
    }
  });
}

/**
 * Ask once per page load before edits change the host: "Load will go to X"
 * under Host, with Confirm and Cancel. Nothing is sent until Confirm.
 */
function confirmHost(trigger: HTMLButtonElement, then: () => void): void {
  const change = form ? form.hostChange() : null;
  if (hostConfirmed || change === null || !hostConfirm || !hostConfirmText || !hostConfirmOk) {
    then();
    return;
  }
  if (form) form.open();
  hostConfirmText.textContent = "Load will go to " + change;
  hostConfirm.hidden = false;
  confirming = { trigger, destination: change, then };
  hostConfirmOk.focus();
}

/**
 * Keep an open host confirmation true to what Confirm would send: the
 * destination as the form now has it, or closed once the edits no longer
 * change the host or its button can no longer act, as after a stage or
 * token change.
 */
function refreshHostConfirm(): void {
  if (!confirming) return;
  const change = form ? form.hostChange() : null;
  if (change === null || unavailable(confirming.trigger)) {
    closeHostConfirm();
    return;
  }
  if (change !== confirming.destination && hostConfirmText) {
    confirming.destination = change;
    hostConfirmText.textContent = "Load will go to " + change;
  }
}

/** Close the confirmation; focus inside it returns to its button. */
function closeHostConfirm(): HostConfirmation | null {
  const open = confirming;
  confirming = null;
  if (!hostConfirm) return open;
  const focused = hostConfirm.contains(document.activeElement);
  hostConfirm.hidden = true;
  if (open && focused) open.trigger.focus();
  return open;
}

function onHostConfirm(): void {
  if (!confirming) return;
  const shown = confirming.destination;
  refreshHostConfirm();
  if (!confirming) return;
  if (confirming.destination !== shown) {
    setControlStatus("Host changed: confirm where load will go", "info");
    return;
  }
  // An edit can have become one the page refuses while it asked.
  if (refusedOnPage()) {
    closeHostConfirm();
    return;
  }
  const open = closeHostConfirm();
  if (!open) return;
  hostConfirmed = true;
  open.trigger.focus();
  open.then();
}

function onHostCancel(): void {
  const open = closeHostConfirm();
  if (open) open.trigger.focus();
}

/**
 * Refuse the pending edits on the page, before the host confirmation and
 * again on Confirm, so nothing is confirmed that will not be sent: a number
 * the browser can not read, which it reports as empty and would send as a
 * clear, and in Idle a Target that is not a user count.
 */
function refusedOnPage(): boolean {
  const bad = form ? form.refuseBadNumber() : null;
  if (bad !== null) {
    setControlStatus(bad + " must be a number", "error");
    return true;
  }
  if (targetPending() && targetField) {
    const users = parseInt(targetField.text(), 10);
    if (!isFinite(users) || users < 1) {
      setControlStatus("Target must be an integer ≥ 1", "error");
      setTargetInvalid(true);
      if (ctrlTarget) ctrlTarget.focus();
      return true;
    }
  }
  return false;
}

function onStartClick(): void {
  if (unavailable(ctrlStart)) return;
  if (currentPhase === "idle" && pendingCount() > 0 && ctrlStart) {
    if (refusedOnPage()) return;
    confirmHost(ctrlStart, () => {
      sendSettings("/api/v1/control/start");
    });
    return;
  }
  runControl("/api/v1/control/start");
}

function onApplySettingsClick(): void {
  if (unavailable(setApply) || !setApply) return;
  if (refusedOnPage()) return;
  confirmHost(setApply, () => {
    sendSettings("/api/v1/control/settings");
  });
}

function onDiscardClick(): void {
  if (unavailable(setDiscard)) return;
  closeHostConfirm();
  if (form) form.discardAll();
  if (targetPending() && targetField) targetField.revert();
  setTargetInvalid(false);
  setControlStatus("Unapplied edits discarded", "info");
  updateControlEnablement();
}

function onStopClick(): void {
  if (unavailable(ctrlStop)) return;
  runControl("/api/v1/control/stop");
}

function onQuitClick(): void {
  if (unavailable(ctrlQuit)) return;
  runControl("/api/v1/control/quit");
}

/** Send `users` to `/users`, the field showing it until the reply. */
function sendUsers(users: number): void {
  if (targetField) targetField.sending(String(users));
  runControl("/api/v1/control/users", { users: users }, users);
}

function onApplyClick(): void {
  if (unavailable(ctrlApply)) return;
  const n = parseInt(targetField ? targetField.text() : "", 10);
  if (!isFinite(n) || n < 1) {
    setControlStatus("Target must be an integer ≥ 1", "error");
    setTargetInvalid(true);
    return;
  }
  sendUsers(n);
}

function onStepClick(delta: number): void {
  if (unavailable(delta < 0 ? ctrlMinus : ctrlPlus)) return;
  readStep();
  // From what the field shows: the server's value, or the user's edit.
  let base = parseInt(targetField ? targetField.text() : "", 10);
  if (!isFinite(base)) {
    base = lastSnap ? lastSnap.active_users : 1;
  }
  const users = Math.max(1, base + delta * step);
  // With other edits pending in Idle, the Target goes with them.
  if (currentStage === "idle" && form && form.pendingCount() > 0 && targetField) {
    targetField.edited(String(users));
    updateControlEnablement();
    return;
  }
  sendUsers(users);
}

/**
 * The sentence naming the Controllers' addresses after `lead`, or one saying
 * none is running; empty when health did not say. The addresses are bind
 * addresses as configured, such as 0.0.0.0:5116.
 */
function controllersText(lead: string): string {
  if (!controllers) return "";
  const parts: string[] = [];
  if (controllers.telnet) {
    parts.push("the telnet controller listening on " + controllers.telnet);
  }
  if (controllers.websocket) {
    parts.push("the WebSocket controller listening on " + controllers.websocket);
  }
  if (parts.length === 0) return "No telnet or WebSocket controller is running.";
  return lead + parts.join(" or ") + ".";
}

function applyControlChrome(): void {
  if (subtitleEl) {
    subtitleEl.textContent = controlEnabled
      ? noAuth
        ? "Live dashboard · control, no token"
        : "Live dashboard · control"
      : probeFailed
        ? "Live dashboard"
        : "Live dashboard · read-only";
  }
  if (footerNoteEl) {
    const sentences = controlEnabled
      ? [
          "Start, stop, and adjust users from this panel" +
            (noAuth ? "" : " (authenticated)") +
            ". Stop begins a cancel ramp (decrease) before idle, and users cannot be changed until then.",
          controllersText("Advanced control remains on "),
        ]
      : [
          controllersText("Control this test via "),
          "This dashboard is read-only.",
        ];
    footerNoteEl.textContent = sentences.filter((s) => s !== "").join(" ");
  }
}

/** `text` as inline code. */
function code(text: string): HTMLElement {
  const el = document.createElement("code");
  el.textContent = text;
  return el;
}

/** A command line as inline code, a word each, so no flag breaks across lines. */
function command(text: string): DocumentFragment {
  const fragment = document.createDocumentFragment();
  text.split(" ").forEach((word, i) => {
    if (i > 0) fragment.appendChild(document.createTextNode(" "));
    const el = code(word);
    el.className = "nowrap";
    fragment.appendChild(el);
  });
  return fragment;
}

/** A paragraph of text and inline code. */
function paragraph(...parts: (string | Node)[]): HTMLParagraphElement {
  const p = document.createElement("p");
  for (const part of parts) {
    p.appendChild(typeof part === "string" ? document.createTextNode(part) : part);
  }
  return p;
}

/**
 * Show the card with `paragraphs` in place of the summary, the settings and
 * the buttons, which stay in the page, hidden.
 */
function showNotice(label: string, paragraphs: HTMLParagraphElement[]): void {
  if (!controlPanel || !ctrlNotice) return;
  for (const child of Array.from(controlPanel.children)) {
    if (child !== ctrlNotice && child.tagName !== "H2") (child as HTMLElement).hidden = true;
  }
  ctrlNotice.setAttribute("aria-label", label);
  ctrlNotice.replaceChildren(...paragraphs);
  ctrlNotice.hidden = false;
  controlPanel.classList.remove("hidden");
}

/** The read-only card: what it can't do, and how to get control. */
function showReadOnly(): void {
  // With a token, or --dashboard-no-auth, already given, only control is
  // missing: the other way would be refused.
  const howTo =
    noAuth || getToken()
      ? paragraph(
          "To control it from here, restart Goose with ",
          command("--dashboard-control"),
          " added."
        )
      : paragraph(
      "To control it from here, restart Goose with ",
      command("--dashboard-control --dashboard-no-auth"),
      " (no token), or with ",
      command("--dashboard-control --dashboard-auth-token <token>"),
      " and open ",
      code("http://" + window.location.host + "/?token=<token>"),
      "."
    );
  const paragraphs = [
    paragraph("Read-only: this dashboard can't start, stop or change the test."),
    howTo,
  ];
  if (controllers && (controllers.telnet || controllers.websocket)) {
    paragraphs.push(paragraph(controllersText("Control this test via ")));
  }
  showNotice("Read-only dashboard", paragraphs);
}

/** The card when health did not answer. */
function showProbeFailed(): void {
  showNotice("Control status unknown", [
    paragraph(
      "Couldn't check whether control is on (",
      code("/api/v1/health"),
      " failed). Reload to retry."
    ),
  ]);
}

/** The warning a dashboard with no token off loopback carries, always shown. */
function showNoAuthWarning(): void {
  if (!noAuthBanner) return;
  const banner = noAuthBanner;
  // Shown first, then filled in a later task, so screen readers announce
  // the alert.
  banner.className = "banner warn";
  const text =
    "WARNING: the dashboard on http://" +
    window.location.host +
    " has no token (--dashboard-no-auth). " +
    (controlEnabled
      ? "Anyone who can reach this port can watch the test, start and stop it, and point the load at any host."
      : "Anyone who can reach this port can watch the test.");
  setTimeout(() => {
    banner.textContent = text;
  }, 0);
}

/** Set up the panel; resolves to whether control is on. */
export function initControlPanel(): Promise<boolean> {
  if (!controlPanel) return Promise.resolve(false);

  const enabled = fetch("/api/v1/health")
    .then((res) => {
      if (!res.ok) throw new Error("HTTP " + res.status);
      return res.json() as Promise<HealthBody>;
    })
    .then((health) => {
      controlEnabled = !!(health && health.control_enabled);
      noAuth = !!health && health.auth_required === false;
      setTokenNeeded(!noAuth);
      // A token kept from an earlier run is never needed again here.
      if (noAuth) forgetStoredToken();
      controllers = (health && health.controllers) || null;
      if (noAuth && health.loopback === false) showNoAuthWarning();
      applyControlChrome();
      if (!controlEnabled) {
        showReadOnly();
        return false;
      }
      controlPanel.classList.remove("hidden");
      if (!hasAccess()) {
        controlTokenMissing = true;
        setBanner(
          "Open this dashboard as http://host:port/?token=… (token required for control).",
          "error"
        );
      }
      updateControlEnablement();
      return true;
    })
    .catch(() => {
      // Health probe failed: say so in the card (observe-only fallback).
      controlEnabled = false;
      probeFailed = true;
      applyControlChrome();
      showProbeFailed();
      return false;
    });

  if (ctrlStart) ctrlStart.addEventListener("click", onStartClick);
  if (setApply) setApply.addEventListener("click", onApplySettingsClick);
  if (setDiscard) setDiscard.addEventListener("click", onDiscardClick);
  if (hostConfirmOk) hostConfirmOk.addEventListener("click", onHostConfirm);
  if (hostConfirmCancel) hostConfirmCancel.addEventListener("click", onHostCancel);
  if (ctrlStop) ctrlStop.addEventListener("click", onStopClick);
  if (ctrlQuit) ctrlQuit.addEventListener("click", onQuitClick);
  if (ctrlApply) ctrlApply.addEventListener("click", onApplyClick);
  if (ctrlMinus)
    ctrlMinus.addEventListener("click", () => {
      onStepClick(-1);
    });
  if (ctrlPlus)
    ctrlPlus.addEventListener("click", () => {
      onStepClick(1);
    });
  if (ctrlStep) {
    ctrlStep.addEventListener("change", readStep);
    ctrlStep.addEventListener("input", readStep);
  }
  if (ctrlTarget) {
    ctrlTarget.addEventListener("input", () => {
      setTargetInvalid(false);
      updateControlEnablement();
    });
  }
  return enabled;
}
