// Link's chat page. Plain JavaScript, no build step. Model text is only ever put into the
// page as text nodes (see renderMarkdown): never parsed as HTML.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const STORE = "link.session";

  const state = {
    mode: null,        // "dev" | "cognito"
    session: null,     // {token, username, refreshToken?, expiresAt}
    conversation: null, // the open conversation (id, persona)
    streaming: false,
    refreshTimer: null,
  };

  // ---- errors ---------------------------------------------------------------------------

  class ApiFailure extends Error {
    constructor(status, code, message, retryAfter) {
      super(message);
      this.status = status;
      this.code = code;
      this.retryAfter = retryAfter;
    }
  }

  async function failureOf(response) {
    let code = "error";
    let message = "The server answered " + response.status + ".";
    try {
      const body = await response.json();
      if (body && body.error) {
        code = body.error.code || code;
        message = body.error.message || message;
      }
    } catch (_) { /* not JSON: keep the generic words */ }
    const retry = parseInt(response.headers.get("Retry-After") || "", 10);
    return new ApiFailure(response.status, code, message, Number.isFinite(retry) ? retry : null);
  }

  // What the user is told for each kind of failure.
  function describe(error, during) {
    if (!(error instanceof ApiFailure)) {
      return "Cannot reach the server. Check your connection and try again.";
    }
    const wait = error.retryAfter ? " Try again in " + error.retryAfter + " seconds." : "";
    if (error.status === 401 && during !== "account") {
      return "Your session has ended. Please sign in again.";
    }
    if (error.status === 429) {
      return "Too many requests: you are over the limit." +
        (wait || " Try again in a minute.");
    }
    if (error.code === "guardrail_blocked") {
      return "That was blocked by the content guardrail. Try saying it another way.";
    }
    if (error.code === "content_filtered") {
      return "The reply was withheld by the content filter. Try another message.";
    }
    if ([502, 503, 504].includes(error.status) ||
        ["upstream_error", "busy", "timeout"].includes(error.code)) {
      const status = error.status ? " (" + error.status + ")" : "";
      return "The character's model service is not answering right now" + status + "." +
        (wait || " Try again shortly.");
    }
    if (error.code === "rate_limited") {
      return "Too many requests: you are over the limit. Try again in a minute.";
    }
    return error.message;
  }

  function notify(text, kind) {
    $("notice-text").textContent = text;
    $("notice").classList.toggle("info", kind === "info");
    $("notice").hidden = false;
  }

  function clearNotice() {
    $("notice").hidden = true;
    $("notice-text").textContent = "";
  }

  function fail(error, during) {
    notify(describe(error, during));
    if (error instanceof ApiFailure && error.status === 401 && during !== "account") {
      signOut(true);
    }
  }

  // ---- HTTP -----------------------------------------------------------------------------

  function headers(extra) {
    const h = Object.assign({ "Content-Type": "application/json" }, extra || {});
    if (state.session) h.Authorization = "Bearer " + state.session.token;
    return h;
  }

  async function api(method, path, body) {
    const response = await fetch(path, {
      method: method,
      headers: headers({ Accept: "application/json" }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw await failureOf(response);
    if (response.status === 204) return null;
    return response.json();
  }

  // ---- markdown, as DOM nodes -------------------------------------------------------------

  const INLINE = /(`[^`\n]+`|\*\*[^*\n]+\*\*|__[^_\n]+__|\*[^*\s][^*\n]*\*|_[^_\s][^_\n]*_)/;

  // Bold, italics and code inside one line of text.
  function inline(parent, text) {
    for (const part of text.split(INLINE)) {
      if (!part) continue;
      let node;
      if (part.length > 2 && part[0] === "`" && part.endsWith("`")) {
        node = document.createElement("code");
        node.textContent = part.slice(1, -1);
      } else if (part.length > 4 && (part.startsWith("**") || part.startsWith("__")) &&
                 part.endsWith(part.slice(0, 2))) {
        node = document.createElement("strong");
        inline(node, part.slice(2, -2));
      } else if (part.length > 2 && (part[0] === "*" || part[0] === "_") &&
                 part.endsWith(part[0])) {
        node = document.createElement("em");
        node.textContent = part.slice(1, -1);
      } else {
        node = document.createTextNode(part);
      }
      parent.appendChild(node);
    }
  }

  const BULLET = /^\s*[-*+]\s+/;
  const NUMBERED = /^\s*\d+[.)]\s+/;

  // Paragraphs, bullet lists and numbered lists; everything as text, nothing as HTML.
  function renderMarkdown(target, text) {
    target.replaceChildren();
    const blocks = text.replace(/\r\n/g, "\n").split(/\n\s*\n/);
    for (const block of blocks) {
      const lines = block.split("\n").filter((l) => l.trim() !== "");
      if (lines.length === 0) continue;
      const pattern = lines.every((l) => BULLET.test(l)) ? BULLET
        : lines.every((l) => NUMBERED.test(l)) ? NUMBERED : null;
      if (pattern) {
        const list = document.createElement(pattern === BULLET ? "ul" : "ol");
        for (const line of lines) {
          const item = document.createElement("li");
          inline(item, line.replace(pattern, ""));
          list.appendChild(item);
        }
        target.appendChild(list);
      } else {
        const p = document.createElement("p");
        lines.forEach((line, i) => {
          if (i > 0) p.appendChild(document.createElement("br"));
          inline(p, line);
        });
        target.appendChild(p);
      }
    }
  }

  // ---- sessions -------------------------------------------------------------------------

  function saveSession(session) {
    state.session = session;
    if (session) sessionStorage.setItem(STORE, JSON.stringify(session));
    else sessionStorage.removeItem(STORE);
  }

  function loadSession() {
    try {
      const session = JSON.parse(sessionStorage.getItem(STORE) || "null");
      if (session && session.token && session.expiresAt > Date.now()) return session;
    } catch (_) { /* a damaged entry is as good as none */ }
    sessionStorage.removeItem(STORE);
    return null;
  }

  function startSession(token, username, expiresIn, refreshToken) {
    saveSession({
      token: token,
      username: username,
      refreshToken: refreshToken || (state.session && state.session.refreshToken) || null,
      expiresAt: Date.now() + expiresIn * 1000,
    });
    scheduleRefresh();
  }

  // Cognito tokens are refreshed a minute before they expire.
  function scheduleRefresh() {
    clearTimeout(state.refreshTimer);
    const s = state.session;
    if (state.mode !== "cognito" || !s || !s.refreshToken) return;
    const delay = Math.max(5000, s.expiresAt - Date.now() - 60000);
    state.refreshTimer = setTimeout(refresh, delay);
  }

  async function refresh() {
    const s = state.session;
    if (!s) return;
    try {
      const tokens = await api("POST", "v1/auth/refresh",
        { refresh_token: s.refreshToken, username: s.username });
      startSession(tokens.id_token, s.username, tokens.expires_in);
    } catch (error) {
      fail(error instanceof ApiFailure && error.status === 401
        ? new ApiFailure(401, "unauthorized", "") : error);
    }
  }

  function signOut(expired) {
    clearTimeout(state.refreshTimer);
    // Cognito revokes the refresh token, so that a copy of it cannot get new tokens; the page
    // forgets the session whatever the answer (and sends the request before it does).
    const refreshToken = state.session && state.session.refreshToken;
    if (refreshToken) {
      api("POST", "v1/auth/signout", { refresh_token: refreshToken }).catch(() => {});
    }
    saveSession(null);
    state.conversation = null;
    $("messages").replaceChildren();
    $("conversations").replaceChildren();
    if (!expired) clearNotice();
    showSignIn();
  }

  // ---- views ----------------------------------------------------------------------------

  function showSignIn() {
    $("app-view").hidden = true;
    $("sign-out").hidden = true;
    $("who").hidden = true;
    $("signin-view").hidden = false;
    $("dev-form").hidden = state.mode !== "dev";
    $("cognito-forms").hidden = state.mode !== "cognito";
    (state.mode === "dev" ? $("dev-name") : $("login-username")).focus();
  }

  async function showApp() {
    $("signin-view").hidden = true;
    $("app-view").hidden = false;
    $("sign-out").hidden = false;
    $("who").hidden = false;
    $("who").textContent = "Signed in as " + state.session.username;
    setChatEnabled(false);
    $("character").focus();
    await loadConversations();
  }

  function setChatEnabled(enabled) {
    $("message").disabled = !enabled;
    $("send-button").disabled = !enabled;
  }

  function formatWhen(iso) {
    const d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  }

  // A quiet reload (after a reply) keeps an earlier message on screen unless the session ended.
  async function loadConversations(quiet) {
    let list;
    try {
      list = (await api("GET", "v1/conversations")).conversations;
    } catch (error) {
      if (!quiet || (error instanceof ApiFailure && error.status === 401)) fail(error);
      return;
    }
    const ul = $("conversations");
    ul.replaceChildren();
    $("list-empty").hidden = list.length > 0;
    for (const c of list) ul.appendChild(conversationItem(c));
  }

  function conversationItem(c) {
    const li = document.createElement("li");
    li.dataset.id = c.id;
    const open = document.createElement("button");
    open.type = "button";
    open.className = "open";
    open.textContent = c.persona.name;
    const when = document.createElement("small");
    when.textContent = formatWhen(c.updated_at);
    open.appendChild(when);
    if (state.conversation && state.conversation.id === c.id) {
      open.setAttribute("aria-current", "true");
    }
    open.addEventListener("click", () => openConversation(c.id));
    const del = document.createElement("button");
    del.type = "button";
    del.className = "danger";
    del.textContent = "Delete";
    del.setAttribute("aria-label", "Delete the conversation with " + c.persona.name);
    del.addEventListener("click", () => deleteConversation(c.id));
    li.append(open, del);
    return li;
  }

  function addMessage(role, text, name) {
    const li = document.createElement("li");
    li.className = "message " + role;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = role === "user" ? "You" : name;
    const body = document.createElement("div");
    body.className = "body";
    renderMarkdown(body, text);
    li.append(who, body);
    $("messages").appendChild(li);
    li.scrollIntoView({ block: "end" });
    return { item: li, body: body };
  }

  function showConversation(detail) {
    state.conversation = { id: detail.id, persona: detail.persona };
    $("chat-title").textContent = detail.persona.name;
    $("card-button").hidden = false;
    $("messages").replaceChildren();
    for (const m of detail.messages) addMessage(m.role, m.content, detail.persona.name);
    setChatEnabled(true);
    $("message").focus();
  }

  function closeConversation() {
    state.conversation = null;
    $("chat-title").textContent = "No conversation open";
    $("card-button").hidden = true;
    $("messages").replaceChildren();
    setChatEnabled(false);
  }

  async function openConversation(id) {
    clearNotice();
    try {
      showConversation(await api("GET", "v1/conversations/" + encodeURIComponent(id)));
      await loadConversations();
      $("message").focus();
    } catch (error) {
      fail(error);
    }
  }

  async function deleteConversation(id) {
    clearNotice();
    try {
      await api("DELETE", "v1/conversations/" + encodeURIComponent(id));
      if (state.conversation && state.conversation.id === id) closeConversation();
      await loadConversations();
      notify("Conversation deleted.", "info");
      $("character").focus();
    } catch (error) {
      fail(error);
    }
  }

  // ---- streaming a reply ----------------------------------------------------------------

  // Splits a Server-Sent Events buffer into complete events; gives back the rest.
  function takeEvents(buffer, onEvent) {
    const blocks = buffer.split(/\r?\n\r?\n/);
    const rest = blocks.pop();
    for (const block of blocks) {
      let name = "message";
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) onEvent(name, data.join("\n"));
    }
    return rest;
  }

  async function send(text) {
    const conversation = state.conversation;
    addMessage("user", text);
    const reply = addMessage("assistant", "", conversation.persona.name);
    reply.item.dataset.state = "streaming";
    $("messages").setAttribute("aria-busy", "true");
    let full = "";
    let finished = false;
    const onEvent = (name, data) => {
      const payload = JSON.parse(data);
      if (name === "delta") {
        full += payload.text;
        renderMarkdown(reply.body, full);
        reply.item.scrollIntoView({ block: "end" });
      } else if (name === "done") {
        finished = true;
        reply.item.dataset.state = "done";
      } else if (name === "error") {
        finished = true;
        reply.item.dataset.state = "failed";
        reply.item.classList.add("failed");
        notify(describe(new ApiFailure(0, payload.code, payload.message, null)));
      }
    };
    try {
      const response = await fetch(
        "v1/conversations/" + encodeURIComponent(conversation.id) + "/messages", {
          method: "POST",
          headers: headers({ Accept: "text/event-stream" }),
          body: JSON.stringify({ content: text }),
        });
      if (!response.ok) throw await failureOf(response);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        buffer = takeEvents(buffer + decoder.decode(chunk.value, { stream: true }), onEvent);
      }
      takeEvents(buffer + decoder.decode() + "\n\n", onEvent);
      if (!finished) {
        reply.item.dataset.state = "failed";
        notify("The reply was cut off. Send your message again to retry.");
      }
    } catch (error) {
      reply.item.remove();
      fail(error);
    } finally {
      $("messages").removeAttribute("aria-busy");
    }
  }

  // ---- the persona card -----------------------------------------------------------------

  const CARD_FIELDS = [
    ["description", "Description"], ["personality", "Personality"],
    ["speaking_style", "Speaking style"], ["setting", "Setting"],
    ["knowledge", "Knows about"], ["must_not_know", "Does not know"],
    ["greeting", "Greeting"],
  ];

  function showCard() {
    const persona = state.conversation.persona;
    $("card-name").textContent = persona.name;
    const dl = $("card-fields");
    dl.replaceChildren();
    const field = (label, value) => {
      if (!value) return;
      const dt = document.createElement("dt");
      dt.textContent = label;
      const dd = document.createElement("dd");
      dd.textContent = value;
      dl.append(dt, dd);
    };
    for (const [key, label] of CARD_FIELDS) field(label, persona[key]);
    field("Example lines", (persona.example_lines || []).join("\n"));
    $("card-dialog").showModal();
    $("card-export").focus();
  }

  async function exportCard() {
    const conversation = state.conversation;
    try {
      const card = await api("GET",
        "v1/personas/" + encodeURIComponent(conversation.id) + "/card");
      const blob = new Blob([JSON.stringify(card, null, 2)], { type: "application/json" });
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = conversation.persona.name.replace(/[^\w.-]+/g, "_") + ".card.json";
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    } catch (error) {
      $("card-dialog").close();
      fail(error);
    }
  }

  // ---- wiring ---------------------------------------------------------------------------

  function onSubmit(id, handler) {
    $(id).addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = event.currentTarget;
      const buttons = form.querySelectorAll("button");
      buttons.forEach((b) => { b.disabled = true; });
      try {
        await handler(form);
      } finally {
        buttons.forEach((b) => { b.disabled = false; });
        if (id === "send-form") setChatEnabled(!!state.conversation);
      }
    });
  }

  const value = (id) => $(id).value.trim();

  function wire() {
    onSubmit("dev-form", async () => {
      clearNotice();
      try {
        const username = value("dev-name");
        const t = await api("POST", "v1/auth/token", { username: username });
        startSession(t.token, username, t.expires_in);
        await showApp();
      } catch (error) {
        fail(error, "account");
      }
    });

    onSubmit("login-form", async () => {
      clearNotice();
      try {
        const username = value("login-username");
        const t = await api("POST", "v1/auth/login",
          { username: username, password: $("login-password").value });
        $("login-password").value = "";
        startSession(t.id_token, username, t.expires_in, t.refresh_token);
        await showApp();
      } catch (error) {
        if (error instanceof ApiFailure && error.code === "not_confirmed") {
          $("confirm-username").value = value("login-username");
          $("confirm-code").focus();
        }
        fail(error, "account");
      }
    });

    onSubmit("signup-form", async () => {
      clearNotice();
      try {
        const username = value("signup-username");
        const r = await api("POST", "v1/auth/signup", {
          username: username, email: value("signup-email"),
          password: $("signup-password").value,
        });
        $("signup-password").value = "";
        $("login-username").value = username;
        $("confirm-username").value = username;
        if (r.user_confirmed) {
          notify("Account created. You can sign in now.", "info");
          $("login-password").focus();
        } else {
          notify("Account created. Enter the code we emailed you to confirm it.", "info");
          $("confirm-code").focus();
        }
      } catch (error) {
        fail(error, "account");
      }
    });

    onSubmit("confirm-form", async () => {
      clearNotice();
      try {
        await api("POST", "v1/auth/confirm",
          { username: value("confirm-username"), code: value("confirm-code") });
        $("confirm-code").value = "";
        $("login-username").value = value("confirm-username");
        notify("Email confirmed. You can sign in now.", "info");
        $("login-password").focus();
      } catch (error) {
        fail(error, "account");
      }
    });

    onSubmit("new-form", async () => {
      clearNotice();
      try {
        const detail = await api("POST", "v1/conversations",
          { persona_request: value("character") });
        $("character").value = "";
        showConversation(detail);
        await loadConversations();
        $("message").focus();
      } catch (error) {
        fail(error);
      }
    });

    onSubmit("send-form", async () => {
      const text = $("message").value.trim();
      if (!text || !state.conversation || state.streaming) return;
      clearNotice();
      state.streaming = true;
      $("message").value = "";
      try {
        await send(text);
      } finally {
        state.streaming = false;
      }
      $("message").focus();
      loadConversations(true);
    });

    // Enter sends; Shift+Enter (or an IME composition) keeps typing.
    $("message").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $("send-form").requestSubmit();
      }
    });

    $("sign-out").addEventListener("click", () => signOut(false));
    $("notice-close").addEventListener("click", clearNotice);
    $("card-button").addEventListener("click", showCard);
    $("card-close").addEventListener("click", () => $("card-dialog").close());
    $("card-export").addEventListener("click", exportCard);
  }

  async function start() {
    wire();
    try {
      state.mode = (await api("GET", "v1/auth/mode")).mode;
    } catch (error) {
      state.mode = "dev";
      fail(error);
    }
    state.session = loadSession();
    if (state.session) {
      scheduleRefresh();
      await showApp();
    } else {
      showSignIn();
    }
  }

  // Exposed for tests of the renderer; harmless otherwise.
  window.linkRenderMarkdown = renderMarkdown;

  start();
})();
