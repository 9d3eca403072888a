/* Listening test page: consent, headphone check, a training page per test, rated items, result file.
 *
 * Reads config.json beside this file (the kit), draws the participant's items and clip orders with a
 * seeded PRNG (seed from localStorage, or ?seed=N), autosaves every answer to localStorage so a reload
 * resumes on the same page, and at the end offers the result as a download and POSTs it to the
 * collection URL if there is one. Test hook (never on by default): ?fast=1 exposes window.lbTest.
 */
(function () {
  "use strict";

  const RESPONSE_SCHEMA = "liveband-listening-response/1";
  const RESPONSES_HEADER = "X-Listening-Responses";
  const params = new URLSearchParams(window.location.search);
  const FAST = params.get("fast") === "1";
  const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

  let config = null;        // the kit's config.json
  let collectUrl = null;    // absolute URL for the POST, or null (download only)
  let plan = [];            // the steps of this participant's session (see buildPlan)
  let state = null;         // everything answered so far (autosaved)
  let storageKey = null;
  let player = null;        // the current page's player (one clip at a time)
  let pageClips = [];       // keys of the clips on the current page

  // ---------------------------------------------------------------- small helpers
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (v === null || v === undefined || v === false) return;
      if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    });
    (children || []).forEach((c) => node.append(c));
    return node;
  }

  function mulberry32(seed) {
    let a = seed >>> 0;
    return function () {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function shuffled(list, rand) {
    const a = list.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }

  function randomUint32() {
    return crypto.getRandomValues(new Uint32Array(1))[0];
  }

  function uuid4() {  // crypto.randomUUID needs a secure context; this works from any origin
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function nowIso() { return new Date().toISOString(); }

  function testById(id) { return config.tests.find((t) => t.id === id); }

  function audioUrl(token) { return `audio/${token}.${config.audio_extension || "wav"}`; }

  // ---------------------------------------------------------------- the session plan
  /* Steps: consent, headphone check, then per test: training, its item pages (items drawn from
   * the pool, clips shuffled), the instructed-response page (attention.instructed, in the test
   * that has its dimension) and the repeated first item (attention.repeat) last; then the end.
   * Deterministic in (config, seed): a reload rebuilds the same plan. */
  function buildPlan(seed) {
    const rand = mulberry32(seed);
    const steps = [{ type: "consent" }];
    if (config.headphone_check) steps.push({ type: "headphone" });
    const attention = config.attention || {};
    const instructed = attention.instructed || null;
    let order = 0;
    config.tests.forEach((test) => {
      steps.push({ type: "training", test: test.id });
      const drawn = shuffled(test.items, rand).slice(0, config.items_per_test);
      const pages = drawn.map((it) => ({ type: "item", kind: "item", test: test.id, item: it.item,
                                         stimuli: shuffled(it.stimuli, rand) }));
      if (instructed && test.dimensions.some((d) => d.id === instructed.dimension)) {
        const owner = test.items.find((it) => it.stimuli.includes(instructed.stimulus));
        const at = 1 + Math.floor(rand() * Math.max(1, pages.length - 1));
        pages.splice(at, 0, { type: "item", kind: "instructed", test: test.id,
                              item: owner ? owner.item : null, stimuli: [instructed.stimulus] });
      }
      if (attention.repeat && drawn.length) {
        pages.push({ type: "item", kind: "repeat", test: test.id, item: drawn[0].item,
                     stimuli: shuffled(drawn[0].stimuli, rand) });
      }
      pages.forEach((p) => { p.orders = p.stimuli.map(() => order++); steps.push(p); });
    });
    steps.push({ type: "end" });
    return steps;
  }

  // ---------------------------------------------------------------- state (localStorage)
  function newState(seed) {
    return { seed: seed, session_id: uuid4(), started: nowIso(), finished: null, step: 0,
             headphone: null, played: {}, ratings: {}, sent: false };
  }

  function loadState() {
    const urlSeed = params.has("seed") ? Number(params.get("seed")) : null;
    if (urlSeed !== null && !(Number.isInteger(urlSeed) && urlSeed >= 0 && urlSeed < 2 ** 32)) {
      throw new Error("?seed= must be an integer from 0 to 4294967295");
    }
    let saved = null;
    try { saved = JSON.parse(localStorage.getItem(storageKey) || "null"); } catch (e) { saved = null; }
    if (saved && (urlSeed === null || saved.seed === urlSeed)) return saved;
    return newState(urlSeed !== null ? urlSeed : randomUint32());
  }

  function save() {
    try { localStorage.setItem(storageKey, JSON.stringify(state)); } catch (e) { /* private mode: no resume */ }
  }

  function clipKey(step, token) { return `${step}|${token}`; }

  function played(key) { return state.played[key] || { ended: false, seconds: 0 }; }

  function markEnded(key) {
    const p = played(key);
    p.ended = true;
    state.played[key] = p;
    save();
    refresh();
  }

  function addSeconds(key, seconds) {
    const p = played(key);
    p.seconds += seconds;
    state.played[key] = p;
  }

  // ---------------------------------------------------------------- the player
  /* One audio element per page: starting a clip stops the one playing; stopping rewinds.
   * A clip counts as played when the element fires "ended" (no seeking is offered). */
  function makePlayer() {
    const audio = new Audio();
    audio.preload = "auto";
    let current = null;

    function stop() {
      if (!current) return;
      audio.pause();
      current.button.textContent = "\u25B6 Play";
      current.button.classList.remove("playing");
      current.bar.value = 0;
      save();
      current = null;
    }

    function toggle(entry) {
      const same = current && current.key === entry.key;
      stop();
      if (same) return;
      current = entry;
      entry.last = 0;
      audio.src = entry.src;
      entry.button.textContent = "\u25A0 Stop";
      entry.button.classList.add("playing");
      audio.play().catch((err) => {
        if (err.name !== "AbortError") showClipError(entry, err.message);
      });
    }

    audio.addEventListener("timeupdate", () => {
      if (!current) return;
      const t = audio.currentTime;
      const d = t - current.last;
      if (d > 0 && d < 2) addSeconds(current.key, d);
      current.last = t;
      if (audio.duration > 0) current.bar.value = t / audio.duration;
    });
    audio.addEventListener("ended", () => {
      if (!current) return;
      const entry = current;
      const d = audio.duration - entry.last;
      if (d > 0 && d < 2) addSeconds(entry.key, d);
      stop();
      markEnded(entry.key);
    });
    audio.addEventListener("error", () => {
      if (current) showClipError(current, "the audio file could not be loaded");
    });

    function release() { stop(); audio.removeAttribute("src"); audio.load(); }
    return { toggle: toggle, stop: stop, release: release };
  }

  function showClipError(entry, message) {
    entry.status.textContent = `Could not play this clip: ${message}`;
    entry.status.className = "status-error";
  }

  function clipControls(key, token, label) {
    const button = el("button", { class: "play", type: "button", text: "\u25B6 Play" });
    const bar = el("progress", { max: "1", value: "0", "aria-label": `${label} position` });
    const status = el("span", { class: "done" });
    const entry = { key: key, src: audioUrl(token), button: button, bar: bar, status: status, last: 0 };
    button.addEventListener("click", () => player.toggle(entry));
    pageClips.push(key);
    return el("div", { class: "player", "data-clip": key }, [button, bar, status]);
  }

  // ---------------------------------------------------------------- rendering
  const app = () => document.getElementById("app");
  let refreshPage = () => {};  // re-evaluates what the current page enables

  function refresh() {
    document.querySelectorAll("[data-clip]").forEach((node) => {
      const p = played(node.getAttribute("data-clip"));
      const status = node.querySelector(".done");
      if (p.ended && !status.classList.contains("status-error")) status.textContent = "\u2713 played";
    });
    refreshPage();
  }

  function render() {
    if (player) player.release();
    player = makePlayer();
    pageClips = [];
    refreshPage = () => {};
    const step = plan[state.step];
    const root = app();
    root.replaceChildren();
    if (FAST) root.append(el("p", { class: "test-mode", text: "Test mode (?fast=1): playback can be skipped." }));
    const pages = plan.filter((s) => s.type === "item").length;
    const done = plan.slice(0, state.step).filter((s) => s.type === "item").length;
    document.getElementById("progress").textContent =
      step.type === "item" ? `Page ${done + 1} of ${pages}` : "";
    ({ consent: renderConsent, headphone: renderHeadphone, training: renderTraining,
       item: renderItem, end: renderEnd })[step.type](step, root);
    refresh();
    window.scrollTo(0, 0);
  }

  function next() {
    player.stop();
    state.step = Math.min(state.step + 1, plan.length - 1);
    if (plan[state.step].type === "end" && !state.finished) state.finished = nowIso();
    save();
    render();
  }

  function navButton(label) {
    const button = el("button", { type: "button", id: "next", text: label, disabled: true, onclick: next });
    return [el("div", { class: "nav" }, [button]), button];
  }

  function renderConsent(step, root) {
    const box = el("input", { type: "checkbox", id: "consent" });
    const [nav, button] = navButton("Start");
    box.addEventListener("change", () => { button.disabled = !box.checked; });
    root.append(
      el("section", { class: "card" }, [
        el("h2", { text: "Welcome" }),
        el("p", { text: "You will listen to short music clips and rate them. There are two parts; each " +
                        "starts with instructions and a practice page. It takes about 20 to 30 minutes." }),
        el("p", { text: "Please use headphones in a quiet place. Each clip has to be played to its end " +
                        "before you can rate it. Your answers are saved in this browser as you go: if " +
                        "you close or reload the page, you continue where you stopped." }),
        el("p", { text: "Taking part is voluntary and anonymous: no name or e-mail is asked for. The " +
                        "result contains your ratings, a random session number, the times you started " +
                        "and finished, and your browser's user-agent string. You may stop at any time; " +
                        "nothing is sent before the last page." }),
        el("label", { class: "consent", for: "consent" },
           [box, el("span", { text: "I have read this and agree to take part." })]),
      ]),
      nav);
  }

  function choiceList(name, options, onChoose, chosen) {
    return el("div", { class: "scale", role: "radiogroup" }, options.map((label, i) => {
      const input = el("input", { type: "radio", name: name, value: String(i), checked: chosen === i,
                                  onchange: () => onChoose(i) });
      return el("label", {}, [input, label]);
    }));
  }

  function renderHeadphone(step, root) {
    const check = config.headphone_check;
    const key = clipKey(state.step, check.stimulus);
    const answered = state.headphone ? state.headphone.answer : null;
    const fieldset = el("fieldset", { "data-requires": key },
      [el("legend", { text: check.question }),
       choiceList("headphone", check.options, (i) => {
         state.headphone = { answer: i, passed: i === check.answer };
         save();
         refresh();
       }, answered)]);
    const [nav, button] = navButton("Continue");
    root.append(el("section", { class: "card" }, [
      el("h2", { text: "Headphone and volume check" }),
      el("p", { text: "Put on your headphones. Play the clip and set a comfortable volume; keep it " +
                      "the same for the rest of the test. Then answer the question." }),
      clipControls(key, check.stimulus, "Check clip"), fieldset]), nav);
    refreshPage = () => {
      fieldset.disabled = !played(key).ended;
      button.disabled = !(played(key).ended && state.headphone);
    };
  }

  function scaleLabels() {
    const [low, high] = config.scale;
    const names = config.scale_labels || [];
    const labels = [];
    for (let v = low; v <= high; v++) labels.push(names[v - low] ? `${v} ${names[v - low]}` : String(v));
    return labels;
  }

  function renderTraining(step, root) {
    const test = testById(step.test);
    const [nav, button] = navButton("Begin");
    const clips = (test.training || []).map((t, i) => {
      const key = clipKey(state.step, t.stimulus);
      return el("div", {}, [el("p", { class: "hint", text: `Practice clip ${i + 1}` }),
                            clipControls(key, t.stimulus, `Practice clip ${i + 1}`)]);
    });
    root.append(
      el("section", { class: "card" }, [
        el("h2", { text: `Part ${config.tests.indexOf(test) + 1} of ${config.tests.length}: instructions` }),
        el("p", { class: "instruction", text: test.instructions || "" }),
        el("p", { text: "On every page you will answer these questions for each clip:" }),
        el("ul", {}, test.dimensions.map((d) => el("li", { text: d.question }))),
        el("p", { text: `Answers go from ${scaleLabels()[0]} to ${scaleLabels().slice(-1)[0]}. ` +
                        "Listen to the practice clips below to get used to the sound before you start." }),
      ].concat(clips)),
      nav);
    const keys = (test.training || []).map((t) => clipKey(state.step, t.stimulus));
    refreshPage = () => { button.disabled = !keys.every((k) => played(k).ended); };
  }

  function ratingKey(step, token, dimension) { return `${step}|${token}|${dimension}`; }

  function renderItem(step, root) {
    const test = testById(step.test);
    const s = state.step;
    const instructed = step.kind === "instructed" ? config.attention.instructed : null;
    if (instructed) root.append(el("p", { class: "card instruction", text: instructed.text }));
    else root.append(el("p", { class: "hint", text: test.instructions || "" }));
    const fieldsets = [];
    step.stimuli.forEach((token, i) => {
      const key = clipKey(s, token);
      const label = step.stimuli.length > 1 ? `Clip ${LETTERS[i]}` : "Clip";
      const groups = test.dimensions.map((d) => {
        const rkey = ratingKey(s, token, d.id);
        const [low] = config.scale;
        const current = state.ratings[rkey];
        const fs = el("fieldset", { "data-requires": key, "data-dimension": d.id },
          [el("legend", { text: d.question }),
           choiceList(`r-${i}-${d.id}`, scaleLabels(), (v) => {
             state.ratings[rkey] = low + v;
             save();
             refresh();
           }, current === undefined ? null : current - low)]);
        fieldsets.push(fs);
        return fs;
      });
      root.append(el("section", { class: "card clip", "data-stimulus": token },
                     [el("h2", { text: label }), clipControls(key, token, label)].concat(groups)));
    });
    const isLast = !plan.slice(s + 1).some((x) => x.type === "item");
    const [nav, button] = navButton(isLast ? "Finish" : "Next page");
    root.append(el("p", { class: "hint", text: "Play each clip to its end to enable its questions." }), nav);
    refreshPage = () => {
      fieldsets.forEach((fs) => { fs.disabled = !played(fs.getAttribute("data-requires")).ended; });
      button.disabled = !step.stimuli.every((token) => test.dimensions.every(
        (d) => state.ratings[ratingKey(s, token, d.id)] !== undefined));
    };
  }

  // ---------------------------------------------------------------- the result
  function buildResponse() {
    const ratings = [];
    plan.forEach((step, s) => {
      if (step.type !== "item") return;
      const test = testById(step.test);
      step.stimuli.forEach((token, i) => {
        const p = played(clipKey(s, token));
        test.dimensions.forEach((d) => {
          const rating = state.ratings[ratingKey(s, token, d.id)];
          if (rating === undefined) return;
          ratings.push({ test: step.test, item: step.item, stimulus: token, dimension: d.id, rating: rating,
                         played_to_end: p.ended, kind: step.kind, order: step.orders[i],
                         seconds_listened: Math.round(p.seconds * 100) / 100 });
        });
      });
    });
    const complete = plan[state.step].type === "end";
    return {
      schema: RESPONSE_SCHEMA, kit_id: config.kit_id, session_id: state.session_id,
      participant_seed: state.seed, started: state.started, finished: complete ? state.finished : null,
      complete: complete, user_agent: navigator.userAgent,
      headphone_check: config.headphone_check
        ? (state.headphone || { answer: null, passed: false }) : null,
      ratings: ratings,
    };
  }

  function download() {
    const blob = new Blob([JSON.stringify(buildResponse(), null, 2) + "\n"], { type: "application/json" });
    const a = el("a", { href: URL.createObjectURL(blob), download: `listening-${state.session_id}.json` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  async function send(statusNode, retry) {
    statusNode.className = "";
    statusNode.textContent = "Sending your answers\u2026";
    retry.hidden = true;
    try {
      const reply = await fetch(collectUrl, { method: "POST", headers: { "Content-Type": "application/json" },
                                              body: JSON.stringify(buildResponse()) });
      if (reply.ok) {
        state.sent = true;
        save();
        statusNode.className = "status-ok";
        statusNode.textContent = "\u2713 Your answers have been received. Thank you!";
        return;
      }
      let message = `${reply.status}`;
      try { message = (await reply.json()).error || message; } catch (e) { /* not JSON */ }
      throw new Error(message);
    } catch (err) {
      statusNode.className = "status-error";
      statusNode.textContent = `Could not send your answers (${err.message}). Please download the ` +
                               "result file and send it to the person running the test.";
      retry.hidden = false;
    }
  }

  function renderEnd(step, root) {
    const statusNode = el("p", { id: "send-status" });
    const retry = el("button", { type: "button", class: "secondary", id: "retry", text: "Try sending again",
                                 hidden: true });
    retry.addEventListener("click", () => send(statusNode, retry));
    root.append(el("section", { class: "card" }, [
      el("h2", { text: "Thank you!" }),
      el("p", { text: "You have finished the listening test." }),
      statusNode,
      el("div", { class: "nav" }, [
        retry,
        el("button", { type: "button", id: "download", text: "Download the result file", onclick: download }),
      ]),
    ]));
    if (!collectUrl) {
      statusNode.textContent = "Please download the result file and send it to the person running the test.";
    } else if (state.sent) {
      statusNode.className = "status-ok";
      statusNode.textContent = "\u2713 Your answers have been received. Thank you!";
    } else {
      send(statusNode, retry);
    }
  }

  // ---------------------------------------------------------------- start-up
  function fail(message) {
    app().replaceChildren(el("p", { class: "status-error", text: message }));
  }

  async function readConfig() {
    if (window.location.protocol === "file:") return { config: await pickConfigFile(), collect: null };
    const reply = await fetch("config.json", { cache: "no-cache" });
    if (!reply.ok) throw new Error(`config.json: HTTP ${reply.status}`);
    return { config: await reply.json(), collect: reply.headers.get(RESPONSES_HEADER) };
  }

  /* Opened from a local folder (file://): browsers do not let a page read files beside it, so
   * the participant picks config.json once; the audio plays from the folder as usual. */
  function pickConfigFile() {
    return new Promise((resolve, reject) => {
      const input = el("input", { type: "file", accept: ".json,application/json", id: "config-file" });
      input.addEventListener("change", () => {
        const file = input.files[0];
        if (!file) return;
        file.text().then((text) => resolve(JSON.parse(text))).catch(reject);
      });
      app().replaceChildren(el("section", { class: "card" }, [
        el("p", { text: "This page was opened from a folder on your computer. Please choose the file " +
                        "config.json from the same folder to start." }), input]));
    });
  }

  function exposeTestHook() {
    window.lbTest = {
      /* Mark every clip of the current page as played to its end (as the "ended" event would). */
      finishPlayback: () => { player.stop(); pageClips.forEach((key) => markEnded(key)); },
      plan: () => JSON.parse(JSON.stringify(plan)),
      state: () => JSON.parse(JSON.stringify(state)),
      response: () => buildResponse(),
      step: () => plan[state.step].type,
    };
  }

  async function start() {
    try {
      const loaded = await readConfig();
      config = loaded.config;
      const target = config.collection_url || loaded.collect;
      collectUrl = target ? new URL(target, window.location.href).href : null;
      storageKey = `lb-listening:${config.kit_id}`;
      state = loadState();
      plan = buildPlan(state.seed);
      state.step = Math.min(state.step, plan.length - 1);
      save();
      if (FAST) exposeTestHook();
      render();
    } catch (err) {
      fail(`The listening test could not start: ${err.message}`);
    }
  }

  start();
})();
