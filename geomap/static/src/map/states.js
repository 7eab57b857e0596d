/* What the map says when it has nothing to draw: loading a large map's data, failing to (with
 * a way to try again), and no agreement matching the filters (with a way to clear them). One
 * message at a time, over the map. */

/* global L */

import { el } from "./text.js";

export function createStates(map) {
  const container = map.getContainer();
  let box = null;

  function hide() {
    if (box) box.remove();
    box = null;
    container.removeAttribute("aria-busy");
  }

  function show(kind, role, text, action) {
    hide();
    box = el("div", "gm-state gm-state-" + kind);
    box.setAttribute("role", role);
    const card = el("div", "gm-state-card");
    if (kind === "loading") card.appendChild(el("span", "gm-spinner")).setAttribute("aria-hidden", "true");
    card.appendChild(el("p", "gm-state-text", text));
    if (action) card.appendChild(action);
    box.appendChild(card);
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    container.appendChild(box);
    return box;
  }

  return {
    hide: hide,
    loading: (labels) => {
      show("loading", "status", labels.loading);
      container.setAttribute("aria-busy", "true");
    },
    error: (labels, retry) => {
      const button = el("button", "gm-state-action", labels.retry);
      button.type = "button";
      button.addEventListener("click", retry);
      show("error", "alert", labels.error, button);
    },
    empty: (labels, clearUrl) => {
      let action = null;
      if (clearUrl) {
        action = el("a", "gm-state-action gm-clear", labels.clear);
        action.href = clearUrl;
        action.setAttribute("data-gm-clear", "");
      }
      show("empty", "status", labels.empty, action);
    },
    current: () => box,
  };
}
