// Shared jsdom harness for the dashboard client tests (`npm test`): loads
// index.html and the built app.js into a fresh jsdom window per page, against
// a stub of the dashboard server. Run `npm run build` first: app.js is read
// from disk.

import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";
import { IDLE_SNAPSHOT } from "./idle-snapshot.mjs";

const here = new URL(".", import.meta.url);
const INDEX_HTML = readFileSync(new URL("index.html", here), "utf8");
const APP_JS = readFileSync(new URL("app.js", here), "utf8");

export const ORIGIN = "http://127.0.0.1:5118";

function jsonResponse(status, body) {
  return {
    status,
    ok: status >= 200 && status < 300,
    json: () => Promise.resolve(body),
  };
}

// A file download (or its error), as the report routes answer.
function fileResponse(status, body, filename) {
  const headers = new Map();
  if (filename) {
    headers.set("content-disposition", 'attachment; filename="' + filename + '"');
  }
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: { get: (name) => headers.get(name.toLowerCase()) || null },
    text: () => Promise.resolve(body),
    blob: () => Promise.resolve(new Blob([body])),
  };
}

// A stub of the dashboard server, as in src/dashboard.rs: metric GETs need
// `?token=` (or Bearer) equal to `token`, unless `token` is ""; control POSTs
// need a Bearer token and no `?token=`, unless `authRequired` is false, as
// under --dashboard-no-auth. Options: `controlEnabled`, `controllers`,
// `authRequired` and `loopback` (each left out when undefined) for
// /api/v1/health, `healthStatus` to answer health with that status instead
// of 200 ("reject" fails it as on a network error), `controlToken`
// (default `token`; the real server has one token, this lets a test produce a
// control 401 alone), and `controlStatus` / `snapshotStatus` to force an
// authorized request to answer with that status instead of 200 (`snapshotStatus`
// "reject" makes the snapshot fetch fail as on a network error, "pending"
// leaves it unanswered until its signal aborts, then fails with an AbortError
// as a browser's fetch does), and
// `snapshot` for the snapshot an authorized request gets (default
// IDLE_SNAPSHOT), or a function of the request URL returning it.
// `controlBody` is the body a control answer other than 200 carries (default a
// 503 style `busy`).
// `controlDelayMs` (default 0) holds each control answer that long, so a test
// can act while a request is in flight. `controlAnswer(command, body)`, given
// the command (the last path segment) and the parsed body, may return
// `{ status, body }` to answer an authorized control request with, a promise
// of it, to answer when the test resolves it, or undefined for the default
// answer.
//
// Request heatmaps: `GET /api/v1/series` answers `seriesStatus` (default 200)
// with the `series` body (default: an empty heatmap for the requested name),
// or the body `series(url)` returns when it is a function, after
// `seriesDelayMs` (default 0).
//
// Reports: `reports` is the listing `GET /api/v1/reports` answers (default:
// none); a report or comparison under /api/v1/reports/ answers with a small
// body and a Content-Disposition naming it, or `reportFileStatus` with a one
// line reason.
export function stubServer(token, options = {}) {
  const {
    controlEnabled = false,
    controllers,
    authRequired,
    loopback,
    healthStatus = 200,
    controlToken = token,
    controlStatus = 200,
    controlBody = { error: "busy", message: "busy" },
    snapshotStatus = 200,
    snapshot = IDLE_SNAPSHOT,
    reports = { dir: "goose-runs", reports: [] },
    reportFileStatus = 200,
    seriesStatus = 200,
    series = null,
    seriesDelayMs = 0,
    controlDelayMs = 0,
    controlAnswer = null,
  } = options;
  const requests = [];
  function fetch(input, init) {
    const url = new URL(String(input), ORIGIN);
    const headers = (init && init.headers) || {};
    const method = (init && init.method) || "GET";
    const bearer = headers["Authorization"] || "";
    const contentType = headers["Content-Type"] || "";
    const body = init && typeof init.body === "string" ? init.body : undefined;
    requests.push({ method, path: url.pathname, url: url.href, bearer, contentType, body });
    // With no token, the server takes any request (the token rows), or any
    // control request (--dashboard-no-auth).
    const open = token === "";
    const controlOpen = authRequired === false;
    if (url.pathname.startsWith("/api/v1/reports") && method === "DELETE") {
      // Deletes are control: a Bearer token and no `?token=`.
      const ok =
        controlOpen ||
        (!url.searchParams.has("token") && bearer === "Bearer " + controlToken);
      return Promise.resolve(fileResponse(ok ? 204 : 401, ""));
    }
    if (url.pathname.startsWith("/api/v1/reports")) {
      const ok =
        open || url.searchParams.get("token") === token || bearer === "Bearer " + token;
      if (!ok) return Promise.resolve(fileResponse(401, "unauthorized"));
      if (url.pathname === "/api/v1/reports") {
        return Promise.resolve(jsonResponse(200, reports));
      }
      if (reportFileStatus !== 200) {
        return Promise.resolve(fileResponse(reportFileStatus, "Run x has no requests to compare."));
      }
      const parts = url.pathname.split("/");
      const name = "goose-test-" + parts[4] + "-" + parts[5];
      return Promise.resolve(fileResponse(200, "report body", name));
    }
    if (url.pathname === "/api/v1/health") {
      if (healthStatus === "reject") {
        return Promise.reject(new TypeError("network error"));
      }
      return Promise.resolve(
        jsonResponse(healthStatus, {
          status: "ok",
          control_enabled: controlEnabled,
          ...(controllers === undefined ? {} : { controllers }),
          ...(authRequired === undefined ? {} : { auth_required: authRequired }),
          ...(loopback === undefined ? {} : { loopback }),
        })
      );
    }
    if (url.pathname.startsWith("/api/v1/control/")) {
      const ok =
        controlOpen ||
        (!url.searchParams.has("token") && bearer === "Bearer " + controlToken);
      if (!ok) {
        return Promise.resolve(jsonResponse(401, { error: "unauthorized" }));
      }
      // Quit leaves idle for decrease on its way out; the others run.
      const command = url.pathname.split("/").pop();
      const custom = controlAnswer
        ? controlAnswer(command, body === undefined ? undefined : JSON.parse(body))
        : undefined;
      if (custom && typeof custom.then === "function") {
        return custom.then((later) => jsonResponse(later.status, later.body));
      }
      const answer = custom
        ? jsonResponse(custom.status, custom.body)
        : controlStatus === 200
          ? jsonResponse(200, {
              ok: true,
              command,
              phase: command === "quit" ? "decrease" : "increase",
            })
          : jsonResponse(controlStatus, controlBody);
      if (controlDelayMs > 0) {
        return new Promise((resolve) =>
          setTimeout(() => resolve(answer), controlDelayMs)
        );
      }
      return Promise.resolve(answer);
    }
    const ok =
      open || url.searchParams.get("token") === token || bearer === "Bearer " + token;
    if (!ok) return Promise.resolve(jsonResponse(401, {}));
    if (url.pathname === "/api/v1/series") {
      if (seriesStatus !== 200) {
        return Promise.resolve(jsonResponse(seriesStatus, { error: "not_found" }));
      }
      const empty = {
        generation: 1,
        rev: 0,
        since: 0,
        start_second: 0,
        end_second: 0,
        hold_from: 0,
        buckets_us: [],
        columns: [],
      };
      const body =
        typeof series === "function"
          ? series(url)
          : series || {
              method: url.searchParams.get("method"),
              name: url.searchParams.get("name"),
              heatmap: empty,
            };
      if (seriesDelayMs > 0) {
        return new Promise((resolve) =>
          setTimeout(() => resolve(jsonResponse(200, body)), seriesDelayMs)
        );
      }
      return Promise.resolve(jsonResponse(200, body));
    }
    if (snapshotStatus === "pending") {
      const signal = init && init.signal;
      return new Promise((resolve, reject) => {
        if (signal) {
          signal.addEventListener("abort", () =>
            reject(new DOMException("aborted", "AbortError"))
          );
        }
      });
    }
    if (snapshotStatus === "reject") {
      return Promise.reject(new TypeError("network error"));
    }
    if (snapshotStatus !== 200) {
      return Promise.resolve(jsonResponse(snapshotStatus, {}));
    }
    return Promise.resolve(
      jsonResponse(200, typeof snapshot === "function" ? snapshot(url) : snapshot)
    );
  }
  return { fetch, requests };
}

export const openPages = [];

// Browser storage a page starts with. A reload of the same tab keeps both
// stores; a new tab keeps localStorage (shared by the origin) and starts with
// an empty sessionStorage.
export const FRESH = { session: {}, local: {} };

export function dump(storage) {
  const out = {};
  for (let i = 0; i < storage.length; i++) {
    const key = storage.key(i);
    out[key] = storage.getItem(key);
  }
  return out;
}

// Load the dashboard at `path` with the browser storage `from` against a stub
// server (`serverToken` and `options` as in stubServer), and let its startup
// requests finish. `blockStorage` makes every sessionStorage access throw, as a
// browser does when site data is blocked. jsdom has no EventSource, so the
// client polls; `eventSource` installs one that fails at once, as a browser's
// does when the server answers 401, so the client takes its SSE error path.
// jsdom has no matchMedia either; `colorScheme` ("dark" or "light") installs
// one answering `prefers-color-scheme` queries, and `page.colorScheme.set`
// switches it and fires `change` on every query list handed out, as a browser
// does when the OS theme changes. jsdom has no canvas: `canvas` installs a
// 2d context that draws nothing and records, in `page.canvas.calls`, each
// property it is given and each method called on it as `{ id, name, value }`
// (`value` the property's value, or the method's arguments), `id` the canvas
// element's; with every element 400 by 200 and a ResizeObserver that never
// fires, so Chart.js lays the charts out and draws them.
export async function openPage(path, from, serverToken, options = {}) {
  const dom = new JSDOM(INDEX_HTML, {
    url: ORIGIN + path,
    runScripts: "outside-only",
  });
  openPages.push(dom);
  const { window } = dom;
  for (const [key, value] of Object.entries(from.session)) {
    window.sessionStorage.setItem(key, value);
  }
  for (const [key, value] of Object.entries(from.local)) {
    window.localStorage.setItem(key, value);
  }
  if (options.blockStorage) {
    Object.defineProperty(window, "sessionStorage", {
      get() {
        throw new window.DOMException("blocked", "SecurityError");
      },
    });
  }
  // `eventStream`: an event stream the test drives, as `page.events.emit`;
  // `source` is the last one the page opened, `sources` every one in order.
  const events = {
    emit(type, payload) {
      if (this.source) this.source.emit(type, payload);
    },
    source: null,
    sources: [],
  };
  if (options.eventStream) {
    window.EventSource = class {
      static CLOSED = 2;
      constructor() {
        this.readyState = 1;
        this.listeners = {};
        events.source = this;
        events.sources.push(this);
      }
      emit(type, payload) {
        for (const listener of this.listeners[type] || []) {
          listener(new window.MessageEvent(type, { data: payload }));
        }
      }
      addEventListener(type, listener) {
        (this.listeners[type] = this.listeners[type] || []).push(listener);
      }
      close() {
        this.readyState = 2;
      }
    };
  } else if (options.closedData !== undefined) {
    // An event stream that delivers one snapshot, then `closed` with this data.
    const data = options.closedData;
    window.EventSource = class {
      static CLOSED = 2;
      constructor() {
        this.readyState = 1;
        this.listeners = {};
        window.setTimeout(() => {
          this.emit("snapshot", JSON.stringify(options.snapshot || IDLE_SNAPSHOT));
          this.emit("closed", data);
        }, 0);
      }
      emit(type, payload) {
        for (const listener of this.listeners[type] || []) {
          listener(new window.MessageEvent(type, { data: payload }));
        }
      }
      addEventListener(type, listener) {
        (this.listeners[type] = this.listeners[type] || []).push(listener);
      }
      close() {
        this.readyState = 2;
      }
    };
  } else if (options.eventSource) {
    window.EventSource = class {
      static CLOSED = 2;
      constructor() {
        this.readyState = 2;
        window.setTimeout(() => this.onerror && this.onerror(), 0);
      }
      addEventListener() {}
      close() {}
    };
  }
  let colorScheme = null;
  if (options.colorScheme) {
    let current = options.colorScheme;
    const lists = [];
    window.matchMedia = (query) => {
      const list = new window.EventTarget();
      Object.defineProperty(list, "media", { value: query });
      Object.defineProperty(list, "matches", {
        get: () => query.includes("prefers-color-scheme: " + current),
      });
      lists.push(list);
      return list;
    };
    colorScheme = {
      set(value) {
        current = value;
        for (const list of lists) list.dispatchEvent(new window.Event("change"));
      },
    };
  }
  const canvas = options.canvas ? installCanvas(window) : null;
  const server = stubServer(serverToken, options);
  window.fetch = server.fetch;
  // jsdom has no object URLs and does not navigate on a download link click:
  // record both instead.
  const downloads = [];
  window.URL.createObjectURL = () => "blob:" + ORIGIN + "/" + downloads.length;
  window.URL.revokeObjectURL = () => {};
  window.HTMLAnchorElement.prototype.click = function () {
    downloads.push({ name: this.download, href: this.href });
  };
  window.eval(APP_JS);
  await settle(window);
  return { window, requests: server.requests, downloads, events, colorScheme, canvas };
}

// The `canvas` option of openPage.
function installCanvas(window) {
  const calls = [];
  window.Element.prototype.getBoundingClientRect = () => ({
    x: 0, y: 0, top: 0, left: 0, right: 400, bottom: 200, width: 400, height: 200,
  });
  window.ResizeObserver = class {
    observe() {}
    unobserve() {}
    disconnect() {}
  };
  window.HTMLCanvasElement.prototype.getContext = function () {
    const canvas = this;
    const state = { canvas };
    return new Proxy(state, {
      get(target, name) {
        if (name in target) return target[name];
        if (typeof name !== "string") return undefined;
        return (...args) => {
          calls.push({ id: canvas.id, name, value: args });
          if (name === "measureText") return { width: 0 };
          if (name === "getLineDash") return [];
          if (name.startsWith("create")) return { addColorStop() {} };
          return undefined;
        };
      },
      set(target, name, value) {
        calls.push({ id: canvas.id, name, value });
        target[name] = value;
        return true;
      },
    });
  };
  return { calls };
}

// Let the client's fetch promise chains run to completion: health, then the
// snapshot, then the work each response starts, with room to spare.
export async function settle(window) {
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => window.setTimeout(resolve, 0));
  }
}
