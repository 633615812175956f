// Link's chat page. Plain JavaScript, no build step. Model text is only ever put into the
// page as text nodes (see renderMarkdown): never parsed as HTML.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const STORE = "link.session";

  const state = {
    mode: null,        // "dev" | "cognito"
    session: null,     // {token, username, refreshToken?, expiresAt}
    conversation: null, // the open conversation as the server gave it (id, persona, messages, ...)
    busy: false,       // a reply is streaming, or a control's request is under way
    abort: null,       // the AbortController of the reply streaming now (the Stop button)
    justStreamed: null, // the id of the reply that finished streaming last
    listCursor: null,  // next_cursor of the last page of the conversation list shown
    personaScope: "me", // what the persona dialog edits: "me" (the default) or "conversation"
    usageLoad: 0,      // counts loads of the usage section, so a late answer is not shown
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
    if (error.code === "quota_exceeded") {
      // The server's message says which quota (the day's tokens, or replies at once) and,
      // for the daily one, when it renews: a wait in seconds would read as "40000 seconds".
      return error.message;
    }
    if (error.status === 429) {
      return "Too many requests: you are over the limit." +
        (wait || " Try again in a minute.");
    }
    if (error.code === "message_too_long") {
      // The server names how many characters the character's model can take.
      return "That message is too long: " + error.message.replace(/^the message is too long: /, "") +
        ". Shorten it or split it in parts.";
    }
    if (error.code === "guardrail_blocked") {
      return "That was blocked by the content guardrail. Try saying it another way.";
    }
    if (error.code === "content_blocked") {
      return "That was blocked by content moderation. Try saying it another way.";
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
    if (error.code === "conflict") {
      return "The conversation changed meanwhile (in another window?), so it was reloaded. " +
        "Try again.";
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
    $("settings-button").hidden = true;
    $("who").hidden = true;
    for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
    $("signin-view").hidden = false;
    $("dev-form").hidden = state.mode !== "dev";
    $("cognito-forms").hidden = state.mode !== "cognito";
    (state.mode === "dev" ? $("dev-name") : $("login-username")).focus();
  }

  async function showApp() {
    $("signin-view").hidden = true;
    $("app-view").hidden = false;
    $("sign-out").hidden = false;
    $("settings-button").hidden = false;
    $("who").hidden = false;
    $("who").textContent = "Signed in as " + state.session.username;
    closeConversation();
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

  // ---- the conversation list ------------------------------------------------------------

  // The first page of the list; "Show more conversations" appends the next ones.
  async function loadConversations() {
    let page;
    try {
      page = await api("GET", "v1/conversations");
    } catch (error) {
      fail(error);
      return;
    }
    $("conversations").replaceChildren();
    showListPage(page);
  }

  async function loadMoreConversations() {
    if (!state.listCursor) return;
    try {
      const page = await api("GET",
        "v1/conversations?cursor=" + encodeURIComponent(state.listCursor));
      const added = showListPage(page);
      // The keyboard goes on where the new items begin.
      if (added.length) added[0].querySelector(".open").focus();
    } catch (error) {
      fail(error);
    }
  }

  // Appends a page of the list (skipping any already shown); gives back the new items.
  function showListPage(page) {
    const ul = $("conversations");
    const shown = new Set([...ul.children].map((li) => li.dataset.id));
    const added = page.conversations.filter((c) => !shown.has(c.id)).map(conversationItem);
    ul.append(...added);
    state.listCursor = page.next_cursor || null;
    $("list-more").hidden = !state.listCursor;
    updateListEmpty();
    return added;
  }

  function updateListEmpty() {
    $("list-empty").hidden = $("conversations").children.length > 0 || !!state.listCursor;
  }

  function listItemOf(id) {
    return [...$("conversations").children].find((li) => li.dataset.id === id);
  }

  // Puts a conversation at the top of the list: it was just changed, or it is new (a fork).
  function touchConversation(c) {
    const old = listItemOf(c.id);
    if (old) old.remove();
    $("conversations").prepend(conversationItem(c));
    updateListEmpty();
  }

  function markCurrent() {
    for (const li of $("conversations").children) {
      const open = li.querySelector(".open");
      if (state.conversation && state.conversation.id === li.dataset.id) {
        open.setAttribute("aria-current", "true");
      } else {
        open.removeAttribute("aria-current");
      }
    }
  }

  function conversationItem(c) {
    const li = document.createElement("li");
    li.dataset.id = c.id;
    const open = document.createElement("button");
    open.type = "button";
    open.className = "open";
    open.textContent = c.persona.name;
    const when = document.createElement("small");
    when.textContent = (c.forked_from ? "Fork \u00b7 " : "") + formatWhen(c.updated_at);
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

  // ---- the open conversation ------------------------------------------------------------

  const path = (c, tail) => "v1/conversations/" + encodeURIComponent(c.id) + (tail || "");
  const messagePath = (c, id, tail) => path(c, "/messages/" + encodeURIComponent(id) + (tail || ""));
  const current = (c) => !!state.conversation && state.conversation.id === c.id;

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // A message while it is being sent or streamed, before the server has stored it.
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
    state.justStreamed = null;
    $("chat-title").textContent = detail.persona.name;
    $("chat-origin").hidden = !detail.forked_from;
    $("messages").replaceChildren();
    applyConversation(detail, { end: true });
    markCurrent();
    setChatEnabled(true);
    $("message").focus();
  }

  // The open conversation as the server has it now: kept, and shown.
  function applyConversation(detail, options) {
    state.conversation = detail;
    renderMessages(detail.messages, options);
    showChatTools();
  }

  function showChatTools() {
    const c = state.conversation;
    $("card-button").hidden = !c;
    $("here-button").hidden = !c;
    $("undo-button").hidden = !c;
    $("undo-button").disabled = !c || !c.messages.some((m) => m.role === "user");
  }

  function closeConversation() {
    state.conversation = null;
    state.justStreamed = null;
    $("chat-title").textContent = "No conversation open";
    $("chat-origin").hidden = true;
    $("messages").replaceChildren();
    showChatTools();
    markCurrent();
    setChatEnabled(false);
  }

  async function openConversation(id) {
    clearNotice();
    try {
      showConversation(await api("GET", "v1/conversations/" + encodeURIComponent(id)));
    } catch (error) {
      fail(error);
    }
  }

  // Reads the conversation `c` again and shows it (if it is still the open one); if it changed
  // it goes to the top of the list.
  async function reload(c) {
    try {
      const detail = await api("GET", path(c));
      if (current(c)) applyConversation(detail);
      if (detail.updated_at !== c.updated_at) touchConversation(detail);
      return detail;
    } catch (error) {
      fail(error);
      return null;
    }
  }

  async function deleteConversation(id) {
    clearNotice();
    try {
      await api("DELETE", "v1/conversations/" + encodeURIComponent(id));
      if (state.conversation && state.conversation.id === id) closeConversation();
      const item = listItemOf(id);
      if (item) item.remove();
      updateListEmpty();
      notify("Conversation deleted.", "info");
      $("character").focus();
    } catch (error) {
      fail(error);
    }
  }

  // ---- the messages ---------------------------------------------------------------------

  // Shows `messages` (oldest first), rebuilding only the items that changed, so the reading
  // position, the keyboard focus and screen readers are left alone by the rest. With
  // `pending` a reply is about to stream in after them.
  function renderMessages(messages, options) {
    const opts = options || {};
    const list = $("messages");
    const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    const spot = focusSpot();
    const wanted = messages.map((m, i) => {
      const last = i === messages.length - 1;
      return {
        id: m.id,
        sig: JSON.stringify([m.content, m.chosen, m.alternatives.length, m.interrupted,
          !!m.edited_at, last, m.id === state.justStreamed]),
        build: () => messageItem(m, i, last),
      };
    });
    const last = messages[messages.length - 1];
    if (last && last.role === "user" && !opts.pending) {
      wanted.push({ id: "missing", sig: "missing", build: missingReply });
    }
    patchList(list, wanted);
    if (atEnd || opts.end) list.scrollTop = list.scrollHeight;
    restoreFocus(spot);
  }

  // Makes the list's items those `wanted` ({id, sig, build}), in order, keeping every item
  // whose id and signature are unchanged.
  function patchList(list, wanted) {
    const ids = new Set(wanted.map((w) => w.id));
    let at = list.firstElementChild;
    const dropAt = () => {
      const next = at.nextElementSibling;
      at.remove();
      at = next;
    };
    for (const w of wanted) {
      while (at && !ids.has(at.dataset.id)) dropAt();
      if (at && at.dataset.id === w.id && at.dataset.sig === w.sig) {
        at = at.nextElementSibling;
        continue;
      }
      const fresh = w.build();
      fresh.dataset.sig = w.sig;
      if (at && at.dataset.id === w.id) {
        at.replaceWith(fresh);
        at = fresh.nextElementSibling;
      } else {
        list.insertBefore(fresh, at);
      }
    }
    while (at) dropAt();
  }

  // Which message control has the keyboard focus, to give it back after its item is rebuilt.
  function focusSpot() {
    const focused = document.activeElement;
    const item = focused && focused.closest("#messages > li");
    return item && focused.dataset.action ? { id: item.dataset.id, action: focused.dataset.action } : null;
  }

  function restoreFocus(spot) {
    if (spot && !$("messages").contains(document.activeElement)) focusControl(spot.id, spot.action);
  }

  function itemOf(id) {
    return [...$("messages").children].find((li) => li.dataset.id === id);
  }

  // Focuses a control of a message, or the nearest one there is (an arrow at the end of the
  // versions is disabled).
  function focusControl(id, action) {
    const item = itemOf(id);
    for (const a of [action, "next", "prev", "regen", "edit"]) {
      const button = item && item.querySelector('[data-action="' + a + '"]');
      if (button && !button.disabled) {
        button.focus();
        return;
      }
    }
  }

  function whose(m) {
    return m.role === "user" ? "your message" : state.conversation.persona.name + "'s reply";
  }

  // One stored message: who said it, its text, and its controls.
  function messageItem(m, index, last) {
    const li = element("li", "message " + m.role + (m.interrupted ? " interrupted" : ""));
    li.dataset.id = m.id;
    if (m.id === state.justStreamed) li.dataset.state = "done";
    const who = element("span", "who", m.role === "user" ? "You" : state.conversation.persona.name);
    if (m.edited_at) who.append(" ", element("span", "badge", "edited"));
    if (m.interrupted) who.append(" ", element("span", "badge bad", "interrupted"));
    const body = element("div", "body");
    renderMarkdown(body, m.content);
    li.append(who, body, messageFoot(m, index, last));
    return li;
  }

  // The last reply's versions and Regenerate are always in view (the greeting's versions,
  // its alternate greetings, too); Edit, Fork and Delete show on hover and keyboard focus.
  function messageFoot(m, index, last) {
    const foot = element("div", "foot");
    const reply = m.role === "assistant";
    if (reply && (last || index === 0) && m.alternatives.length > 1) foot.append(versions(m));
    if (reply && last) {
      foot.append(tool("regen", "Regenerate", "Regenerate " + whose(m), regenerate));
    }
    const more = element("span", "actions");
    more.append(tool("edit", "Edit", "Edit " + whose(m), () => startEdit(m)));
    more.append(tool("fork", "Fork", "Fork: a new conversation up to " + whose(m),
      () => forkAt(m)));
    if (index > 0) {
      more.append(tool("rewind", "Delete from here",
        "Delete from here: " + whose(m) + " and everything after it", () => deleteFrom(m)));
    }
    foot.append(more);
    return foot;
  }

  function tool(action, text, label, onClick) {
    const button = element("button", "tool", text);
    button.type = "button";
    button.dataset.action = action;
    button.setAttribute("aria-label", label);
    button.addEventListener("click", onClick);
    return button;
  }

  // "‹ 2/3 ›": which of the message's versions is shown, and the way to the others.
  function versions(m) {
    const count = m.alternatives.length;
    const where = " (showing " + (m.chosen + 1) + " of " + count + ")";
    const prev = tool("prev", "\u2039", "Previous version" + where, () => choose(m, m.chosen - 1));
    const next = tool("next", "\u203a", "Next version" + where, () => choose(m, m.chosen + 1));
    prev.disabled = m.chosen === 0;
    next.disabled = m.chosen === count - 1;
    const shown = element("span", "where", (m.chosen + 1) + "/" + count);
    shown.setAttribute("aria-hidden", "true");
    const span = element("span", "versions");
    span.append(prev, shown, next);
    return span;
  }

  // The newest message is the user's with no reply: its stream broke before a word came, or
  // this is a fork made at it.
  function missingReply() {
    const li = element("li", "message assistant missing");
    li.dataset.id = "missing";
    const foot = element("div", "foot");
    foot.append(tool("regen", "Regenerate", "Regenerate: get a reply to your message",
      regenerate));
    li.append(element("span", "who", state.conversation.persona.name),
      element("p", "body", "No reply yet."), foot);
    return li;
  }

  // ---- the controls ---------------------------------------------------------------------

  // Runs one control unless something else is under way. A conflict (the conversation changed
  // meanwhile, maybe in another window) reloads the conversation.
  async function control(work) {
    const c = state.conversation;
    if (!c || state.busy) return;
    state.busy = true;
    clearNotice();
    try {
      await work(c);
    } catch (error) {
      fail(error);
      if (error instanceof ApiFailure && error.code === "conflict") await reload(c);
    } finally {
      state.busy = false;
    }
  }

  function replaceMessage(c, stored) {
    if (!current(c)) return;
    const now = state.conversation;
    now.messages = now.messages.map((m) => (m.id === stored.id ? stored : m));
    applyConversation(now);
  }

  function choose(m, index) {
    return control(async (c) => {
      replaceMessage(c, await api("PATCH", messagePath(c, m.id), { chosen: index }));
    });
  }

  // Edits a message in place. Save stores the text; for the user's message, Save & resend
  // also has the character answer it again (the turns after it go).
  function startEdit(m, text) {
    const li = itemOf(m.id);
    if (!li || state.busy || li.classList.contains("editing")) return;
    li.classList.add("editing");
    const form = element("form", "edit");
    const box = element("textarea");
    box.value = text === undefined ? m.content : text;
    box.rows = Math.min(12, box.value.split("\n").length + 1);
    box.setAttribute("aria-label", "Edit " + whose(m));
    const row = element("div", "row");
    const save = element("button", "", "Save");
    save.type = "submit";
    save.dataset.action = "save";
    row.append(save);
    if (m.role === "user") {
      const resend = tool("resend", "Save & resend",
        "Save & resend: the character answers it again, replacing what came after",
        () => finishEdit(m, box.value, true));
      resend.className = "";
      row.append(resend);
    }
    const cancel = tool("cancel", "Cancel", "Cancel the edit", () => cancelEdit(m));
    cancel.className = "quiet";
    row.append(cancel);
    form.append(box, row);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      finishEdit(m, box.value, false);
    });
    // Escape gives up; Ctrl+Enter (or Cmd+Enter) saves.
    box.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        cancelEdit(m);
      } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    li.querySelector(".body").hidden = true;
    li.querySelector(".foot").hidden = true;
    li.append(form);
    box.focus();
  }

  // Rebuilds the message's item (closing its editor) on the next render.
  function closeEditor(id) {
    const li = itemOf(id);
    if (li) li.dataset.sig = "";
  }

  function cancelEdit(m) {
    closeEditor(m.id);
    renderMessages(state.conversation.messages);
    focusControl(m.id, "edit");
  }

  async function finishEdit(m, text, resend) {
    if (!text.trim()) {
      notify("A message cannot be empty.");
      return;
    }
    if (resend) {
      await resendFrom(m, text);
      return;
    }
    await control(async (c) => {
      const stored = await api("PATCH", messagePath(c, m.id), { content: text });
      closeEditor(m.id);
      replaceMessage(c, stored);
      focusControl(m.id, "edit");
    });
  }

  function regenerate() {
    const c = state.conversation;
    if (!c) return Promise.resolve();
    const last = c.messages[c.messages.length - 1];
    const view = last && last.role === "assistant" ? c.messages.slice(0, -1) : c.messages;
    return generate(view, "/regenerate", undefined);
  }

  function resendFrom(m, text) {
    const c = state.conversation;
    const at = c.messages.findIndex((x) => x.id === m.id);
    const view = c.messages.slice(0, at + 1)
      .map((x) => (x.id === m.id ? Object.assign({}, x, { content: text }) : x));
    // If the conversation stays as it was, the editor opens again with the new text.
    return generate(view, "/messages/" + encodeURIComponent(m.id) + "/resend", { content: text },
      () => startEdit(m, text));
  }

  // Regenerate and resend: the new reply streams in place of what it replaces (`view` is the
  // conversation as it will be). The server changes the conversation only when the reply is
  // complete, so after a failure or a drop it is shown as it was, and then `unchanged` runs.
  async function generate(view, tail, body, unchanged) {
    let same = false;
    const asItWas = async (c, reread) => {
      same = true;
      if (reread) await reload(c);
      else if (current(c)) renderMessages(state.conversation.messages);
    };
    await control(async (c) => {
      renderMessages(view, { pending: true, end: true });
      const bubble = addMessage("assistant", "", c.persona.name);
      let outcome;
      try {
        outcome = await streamReply(path(c, tail), body, bubble);
      } catch (error) {
        await asItWas(c, false);
        throw error;
      }
      if (outcome.done) {
        state.justStreamed = outcome.done.message_id;
        await reload(c);
        focusControl(outcome.done.message_id, "regen");
      } else if (outcome.dropped) {
        await asItWas(c, true);
        notify(outcome.stopped ? "Stopped. The conversation is as it was."
          : "The reply was cut off, so nothing changed. Try again.", "info");
      } else {
        await asItWas(c, false); // the error event's notice says why
      }
    });
    if (same && unchanged) unchanged();
  }

  // Undo last turn: the newest user message and what followed it go; its text comes back to
  // the message box (when that is empty), to change and send again.
  function undoTurn() {
    return control(async (c) => {
      const lastUser = c.messages.filter((m) => m.role === "user").pop();
      const result = await api("POST", path(c, "/rewind"), { turns: 1 });
      await reload(c);
      const restore = lastUser && result.removed > 0 && !$("message").value.trim();
      if (restore) $("message").value = lastUser.content;
      notify(removed(result.removed) +
        (restore ? " Your message is back in the box to change and send." : ""), "info");
      $("message").focus();
    });
  }

  async function deleteFrom(m) {
    const c = state.conversation;
    if (!c || state.busy) return;
    const at = c.messages.findIndex((x) => x.id === m.id);
    const after = c.messages.length - at - 1;
    const question = "Delete this message" +
      (after > 0 ? " and the " + after + " after it" : "") + "? This cannot be undone.";
    if (at < 1 || !window.confirm(question)) return;
    await control(async (c) => {
      const result = await api("POST", path(c, "/rewind"), { after: c.messages[at - 1].id });
      await reload(c);
      notify(removed(result.removed), "info");
      $("message").focus();
    });
  }

  function removed(count) {
    return "Deleted " + count + (count === 1 ? " message." : " messages.");
  }

  // A new conversation holding the messages up to `m`; it opens, and tops the list.
  function forkAt(m) {
    return control(async (c) => {
      const fork = await api("POST", path(c, "/fork"), { through: m.id });
      showConversation(fork);
      touchConversation(fork);
      notify("This is a new conversation, forked from the earlier one at that message.", "info");
    });
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

  // Streams the reply of `POST url` into `reply`. Resolves to {done} (the `done` event's data,
  // with the stored reply), {error} after an `error` event (already shown), or {dropped}
  // when the stream ended without either: the connection broke, or Stop was pressed
  // (`stopped`). A request the server refused throws its ApiFailure.
  async function streamReply(url, body, reply) {
    const abort = new AbortController();
    state.abort = abort;
    $("stop-button").hidden = false;
    $("stop-button").disabled = false;
    $("send-button").disabled = true;
    reply.item.dataset.state = "streaming";
    $("messages").setAttribute("aria-busy", "true");
    let full = "";
    let outcome = null;
    const onEvent = (name, data) => {
      const payload = JSON.parse(data);
      if (name === "delta") {
        full += payload.text;
        renderMarkdown(reply.body, full);
        reply.item.scrollIntoView({ block: "end" });
      } else if (name === "done") {
        outcome = { done: payload };
        reply.item.dataset.state = "done";
      } else if (name === "error") {
        outcome = { error: payload };
        reply.item.dataset.state = "failed";
        reply.item.classList.add("failed");
        notify(describe(new ApiFailure(0, payload.code, payload.message, null)));
      }
    };
    try {
      let response;
      try {
        response = await fetch(url, {
          method: "POST",
          headers: headers({ Accept: "text/event-stream" }),
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: abort.signal,
        });
      } catch (_) {
        // It may have reached the server all the same: the caller finds out, never guesses.
        return { dropped: true, stopped: abort.signal.aborted };
      }
      if (!response.ok) throw await failureOf(response);
      try {
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const chunk = await reader.read();
          if (chunk.done) break;
          buffer = takeEvents(buffer + decoder.decode(chunk.value, { stream: true }), onEvent);
        }
        takeEvents(buffer + decoder.decode() + "\n\n", onEvent);
      } catch (_) { /* the connection broke, or Stop was pressed: see below */ }
      if (!outcome) reply.item.dataset.state = "interrupted";
      return outcome || { dropped: true, stopped: abort.signal.aborted };
    } finally {
      state.abort = null;
      $("stop-button").hidden = true;
      $("send-button").disabled = !state.conversation;
      $("messages").removeAttribute("aria-busy");
    }
  }

  async function send(text) {
    const c = state.conversation;
    const before = c.messages.map((m) => m.id);
    addMessage("user", text);
    const reply = addMessage("assistant", "", c.persona.name);
    let outcome;
    try {
      outcome = await streamReply(path(c, "/messages"), { content: text }, reply);
    } catch (error) {
      reply.item.remove();
      fail(error);
      return;
    }
    if (outcome.done) {
      state.justStreamed = outcome.done.message_id;
      await reload(c);
    } else if (outcome.dropped) {
      await settleDroppedSend(c, before, text, outcome.stopped);
    }
  }

  const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // How long to wait before each look at a conversation whose send was dropped (7 s in all).
  const SETTLE_WAITS = [100, 250, 500, 1000, 2000, 3000];

  // A dropped send: the server keeps the user's message once (with what came of the reply,
  // marked interrupted) as soon as it notices, or nothing if the request never got through.
  // Look until the message shows, so the page never has anyone send a message twice.
  async function settleDroppedSend(c, before, text, stopped) {
    let detail = null;
    for (const wait of SETTLE_WAITS) {
      await delay(wait);
      try {
        detail = await api("GET", path(c));
      } catch (error) {
        if (error instanceof ApiFailure) {
          fail(error);
          return;
        }
        continue; // still cannot reach the server
      }
      if (changedSince(detail.messages, before)) break;
    }
    if (!current(c)) return;
    if (!detail) {
      notify("The connection broke during the reply. Reopen the conversation to see what " +
        "was saved before you send anything again.");
      return;
    }
    applyConversation(detail, { end: true });
    if (changedSince(detail.messages, before)) {
      touchConversation(detail);
      notify((stopped ? "Stopped." : "The reply was cut off.") +
        " Your message is saved: use Regenerate for a new reply.", "info");
      return;
    }
    if (!$("message").value.trim()) $("message").value = text;
    notify("The reply was cut off before your message was saved. " +
      "It is back in the message box: send it again.");
  }

  function changedSince(messages, before) {
    const last = messages[messages.length - 1];
    return messages.length !== before.length || (!!last && last.id !== before[before.length - 1]);
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
    showLore(persona.lorebook);
    showMemory(state.conversation.memory);
    $("memory-status").textContent = "";
    $("avatar-status").textContent = "";
    $("card-dialog").showModal();
    // The first control: the dialog opens at its top, where the name and picture are.
    $("avatar-pick").focus();
    refreshMemory(state.conversation);
    showAvatar(state.conversation);
  }

  // The lorebook's enabled entries: the keys, then what the character is told.
  function showLore(book) {
    const entries = ((book && book.entries) || []).filter((e) => e.enabled !== false);
    $("lore").hidden = entries.length === 0;
    const dl = $("lore-entries");
    dl.replaceChildren();
    for (const entry of entries) {
      const keys = entry.constant ? "Always" : (entry.keys || []).join(", ");
      dl.append(element("dt", "", keys), element("dd", "", entry.content));
    }
  }

  // ---- the character's picture (in the persona card) ------------------------------------

  let avatarUrl = null;

  function setAvatar(url) {
    if (avatarUrl) URL.revokeObjectURL(avatarUrl);
    avatarUrl = url;
    const img = $("card-avatar");
    img.hidden = !url;
    if (url) {
      img.src = url;
      img.alt = "Picture of " + state.conversation.persona.name;
    } else {
      img.removeAttribute("src");
    }
    $("avatar-remove").hidden = !url;
  }

  // The picture is fetched with the session's token (an <img> cannot send one).
  async function showAvatar(c) {
    setAvatar(null);
    try {
      const response = await fetch(path(c, "/avatar"), { headers: headers() });
      if (response.status === 404) return;
      if (!response.ok) throw await failureOf(response);
      const blob = await response.blob();
      if (current(c)) setAvatar(URL.createObjectURL(blob));
    } catch (error) {
      $("avatar-status").textContent = describe(error);
    }
  }

  // PUT with a PNG sets the picture, DELETE removes it.
  async function changeAvatar(file) {
    const c = state.conversation;
    try {
      const response = await fetch(path(c, "/avatar"), {
        method: file ? "PUT" : "DELETE",
        headers: headers({ "Content-Type": "image/png", Accept: "application/json" }),
        body: file || undefined,
      });
      if (!response.ok) throw await failureOf(response);
      $("avatar-status").textContent = "";
      await showAvatar(c);
    } catch (error) {
      $("avatar-status").textContent = describe(error);
    } finally {
      $("avatar-file").value = "";
    }
  }

  // ---- what the character remembers (shown and edited in the persona card) --------------

  function showMemory(memory) {
    const m = memory || {};
    $("memory-summary").value = m.summary || "";
    $("memory-pinned").value = (m.pinned_facts || []).join("\n");
  }

  // The summary is written after replies, in the background: read it fresh for the card,
  // unless the user has started editing meanwhile.
  async function refreshMemory(c) {
    const before = [$("memory-summary").value, $("memory-pinned").value];
    try {
      const detail = await api("GET", path(c, "?last=1"));
      if (!current(c)) return;
      state.conversation.memory = detail.memory;
      const now = [$("memory-summary").value, $("memory-pinned").value];
      if (now[0] === before[0] && now[1] === before[1]) showMemory(detail.memory);
    } catch (error) {
      $("memory-status").textContent = describe(error);
    }
  }

  async function storeMemory() {
    const c = state.conversation;
    const change = {
      memory: $("memory-summary").value.trim(),
      pinned_facts: $("memory-pinned").value.split("\n").map((f) => f.trim()).filter((f) => f),
    };
    try {
      const updated = await api("PATCH", path(c), change);
      if (current(c)) state.conversation.memory = updated.memory;
      showMemory(updated.memory);
      $("memory-status").textContent = "";
    } catch (error) {
      if (error instanceof ApiFailure && error.status === 401) {
        $("card-dialog").close();
        fail(error);
      } else {
        $("memory-status").textContent = describe(error);
      }
      return;
    }
    notify("Saved. " + c.persona.name + " will remember it.", "info");
  }

  // Downloads the conversation's card: "png" (an image with the V3 and V2 cards) or "v2" JSON.
  async function exportCard(format) {
    const conversation = state.conversation;
    try {
      const response = await fetch("v1/personas/" + encodeURIComponent(conversation.id) +
        "/card?format=" + format, { headers: headers() });
      if (!response.ok) throw await failureOf(response);
      const blob = await response.blob();
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      const name = conversation.persona.name.replace(/[^\w.-]+/g, "_");
      link.download = name + (format === "png" ? ".png" : ".card.json");
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    } catch (error) {
      $("card-dialog").close();
      fail(error);
    }
  }

  // Starts a conversation from a card file (PNG, JSON or CharX; the server reads which).
  async function importCard(file) {
    if (!file) return;
    clearNotice();
    try {
      const response = await fetch("v1/conversations/import", {
        method: "POST",
        headers: headers({ "Content-Type": "application/octet-stream", Accept: "application/json" }),
        body: file,
      });
      if (!response.ok) throw await failureOf(response);
      showConversation(await response.json());
      await loadConversations();
      $("message").focus();
    } catch (error) {
      fail(error);
    } finally {
      $("card-file").value = "";
    }
  }

  function watchCardDrops() {
    const zone = $("card-drop");
    $("card-file").addEventListener("change", (event) => importCard(event.target.files[0]));
    for (const name of ["dragenter", "dragover"]) {
      zone.addEventListener(name, (event) => {
        event.preventDefault();
        zone.classList.add("over");
      });
    }
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("over");
      importCard(event.dataTransfer.files[0]);
    });
  }

  // ---- who the user is ------------------------------------------------------------------

  // The persona dialog edits the user's default (Settings) or this conversation's override.
  const PERSONA_SCOPES = {
    me: {
      title: "Who you are",
      hint: "Characters call you by this name and know this about you, in every " +
        "conversation that does not say otherwise.",
      clear: "Clear",
    },
    conversation: {
      title: "Who you are here",
      hint: "Only in this conversation. \u201cUse my default\u201d goes back to what " +
        "Settings says.",
      clear: "Use my default",
    },
  };

  async function openPersona(scope) {
    let persona;
    if (scope === "me") {
      try {
        persona = (await api("GET", "v1/me/persona")).user_persona;
      } catch (error) {
        fail(error);
        return;
      }
    } else if (state.conversation) {
      persona = state.conversation.user_persona;
    } else {
      return;
    }
    state.personaScope = scope;
    const words = PERSONA_SCOPES[scope];
    $("persona-title").textContent = words.title;
    $("persona-hint").textContent = words.hint;
    $("persona-clear").textContent = words.clear;
    $("persona-status").textContent = "";
    $("persona-name").value = persona ? persona.name : "";
    $("persona-description").value = persona ? persona.description : "";
    $("usage").hidden = scope !== "me";
    $("keys").hidden = scope !== "me";
    $("persona-dialog").showModal();
    $("persona-name").focus();
    if (scope === "me") loadUsage();
    if (scope === "me") loadKeys();
  }

  // ---- what the user used ---------------------------------------------------------------

  const tokenCount = new Intl.NumberFormat();

  // Fills Settings' "Usage this month" from GET /v1/me/usage: the model tokens each
  // conversation used this month (UTC), the most first, and their total.
  async function loadUsage() {
    const load = ++state.usageLoad;
    $("usage-region").hidden = true;
    $("usage-status").textContent = "Loading\u2026";
    let usage;
    try {
      usage = await api("GET", "v1/me/usage");
    } catch (error) {
      if (load === state.usageLoad) {
        $("usage-status").textContent = "Usage is not available. " + describe(error);
      }
      return;
    }
    if (load !== state.usageLoad) return;
    if (usage.conversations.length === 0) {
      $("usage-status").textContent = "No model tokens used in " + usage.month + " yet.";
      return;
    }
    $("usage-status").textContent = "Model tokens in " + usage.month + " (UTC), as the model " +
      "reported them.";
    $("usage-rows").replaceChildren(...usage.conversations.map(usageRow));
    $("usage-total-in").textContent = tokenCount.format(usage.total.input_tokens);
    $("usage-total-out").textContent = tokenCount.format(usage.total.output_tokens);
    $("usage-region").hidden = false;
  }

  // One conversation's line; a deleted one has no name.
  function usageRow(line) {
    const row = document.createElement("tr");
    const name = document.createElement("th");
    name.scope = "row";
    if (line.name === null) {
      name.textContent = "Deleted conversation";
      name.className = "deleted";
    } else {
      name.textContent = line.name;
    }
    row.append(name);
    for (const count of [line.input_tokens, line.output_tokens]) {
      const cell = document.createElement("td");
      cell.textContent = tokenCount.format(count);
      row.append(cell);
    }
    return row;
  }

  // ---- API keys for OpenAI-compatible chat apps -------------------------------------------

  // Fills Settings' "API keys" from GET /v1/me/keys: names and first characters, never the
  // keys themselves, each with a button that revokes it.
  async function loadKeys() {
    $("keys-base").textContent = new URL("v1", document.baseURI).href;
    $("keys-new").hidden = true;
    $("keys-secret").value = "";
    $("keys-status").textContent = "Loading\u2026";
    let list;
    try {
      list = (await api("GET", "v1/me/keys")).keys;
    } catch (error) {
      $("keys-status").textContent = "Keys are not available. " + describe(error);
      return;
    }
    $("keys-list").replaceChildren(...list.map(keyRow));
    $("keys-status").textContent = list.length === 0 ? "No keys yet." : "";
  }

  function keyRow(key) {
    const row = document.createElement("li");
    const name = document.createElement("span");
    name.className = "key-name";
    name.textContent = key.name;
    const hint = document.createElement("code");
    hint.textContent = key.hint + "\u2026";
    const revoke = document.createElement("button");
    revoke.type = "button";
    revoke.className = "quiet";
    revoke.textContent = "Revoke";
    revoke.setAttribute("aria-label", "Revoke the key " + key.name);
    revoke.addEventListener("click", () => revokeKey(key));
    row.append(name, hint, revoke);
    return row;
  }

  // Makes a key and shows it once, selected for copying.
  async function createKey() {
    const name = $("keys-name").value.trim();
    if (!name) {
      $("keys-status").textContent = "Say what the key is for.";
      $("keys-name").focus();
      return;
    }
    let created;
    try {
      created = await api("POST", "v1/me/keys", { name: name });
    } catch (error) {
      $("keys-status").textContent = describe(error);
      return;
    }
    $("keys-name").value = "";
    await loadKeys();
    $("keys-secret").value = created.key_secret;
    $("keys-new").hidden = false;
    $("keys-secret").focus();
    $("keys-secret").select();
  }

  async function revokeKey(key) {
    if (!window.confirm("Revoke \u201c" + key.name + "\u201d? Apps using it stop working.")) return;
    try {
      await api("DELETE", "v1/me/keys/" + encodeURIComponent(key.id));
    } catch (error) {
      $("keys-status").textContent = describe(error);
      return;
    }
    await loadKeys();
    $("keys-status").textContent = "Revoked \u201c" + key.name + "\u201d.";
  }

  // Stores the persona the dialog edits, or with null clears it.
  async function storePersona(persona) {
    const scope = state.personaScope;
    const c = state.conversation;
    try {
      if (scope === "me" && persona) await api("PUT", "v1/me/persona", persona);
      else if (scope === "me") await api("DELETE", "v1/me/persona");
      else {
        const updated = await api("PATCH", path(c), { user_persona: persona });
        if (current(c)) state.conversation.user_persona = updated.user_persona;
      }
    } catch (error) {
      if (error instanceof ApiFailure && error.status === 401) {
        $("persona-dialog").close();
        fail(error);
      } else {
        $("persona-status").textContent = describe(error);
      }
      return;
    }
    $("persona-dialog").close();
    notify(persona ? "Saved. Characters will call you " + persona.name + "."
      : scope === "me" ? "Cleared." : "This conversation uses your default now.", "info");
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
      if (!text || !state.conversation || state.busy) return;
      clearNotice();
      state.busy = true;
      $("message").value = "";
      try {
        await send(text);
      } finally {
        state.busy = false;
      }
      $("message").focus();
    });

    onSubmit("memory-form", storeMemory);
    onSubmit("persona-form", () => storePersona(
      { name: value("persona-name"), description: value("persona-description") }));

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
    $("card-export").addEventListener("click", () => exportCard("v2"));
    $("card-export-png").addEventListener("click", () => exportCard("png"));
    $("avatar-pick").addEventListener("click", () => $("avatar-file").click());
    $("avatar-file").addEventListener("change", (event) => {
      if (event.target.files[0]) changeAvatar(event.target.files[0]);
    });
    $("avatar-remove").addEventListener("click", () => changeAvatar(null));
    watchCardDrops();
    $("settings-button").addEventListener("click", () => openPersona("me"));
    $("here-button").addEventListener("click", () => openPersona("conversation"));
    $("persona-clear").addEventListener("click", () => storePersona(null));
    $("persona-close").addEventListener("click", () => $("persona-dialog").close());
    $("keys-create").addEventListener("click", createKey);
    $("keys-name").addEventListener("keydown", (event) => {
      // Enter makes a key; it must not submit the persona form around it.
      if (event.key === "Enter") {
        event.preventDefault();
        createKey();
      }
    });
    $("undo-button").addEventListener("click", undoTurn);
    $("stop-button").addEventListener("click", () => { if (state.abort) state.abort.abort(); });
    $("list-more").addEventListener("click", loadMoreConversations);
    $("origin-button").addEventListener("click", () => {
      const origin = state.conversation && state.conversation.forked_from;
      if (origin) openConversation(origin.conversation_id);
    });
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
