// Composing a push: the lock-screen previews follow the texts as they are typed, the remaining
// characters are counted, and provinces are chosen by clicking (or Enter/Space on) the map,
// which ticks the same checkboxes the list by region has (the form sends those).
(function () {
  "use strict";
  const form = document.getElementById("compose");
  if (!form) return;
  const field = (name) => form.querySelector(`[name="${name}"]`);
  const language = form.querySelector("[data-preview-language]");

  function updatePreview() {
    const en = language && language.value === "en" && field("title_en").value.trim();
    const title = (en ? field("title_en") : field("title_th")).value.trim();
    const body = (en ? field("body_en") : field("body_th")).value.trim();
    form.querySelectorAll('[data-mock="title"]').forEach((el) => { el.textContent = title || "…"; });
    form.querySelectorAll('[data-mock="body"]').forEach((el) => { el.textContent = body || "…"; });
    form.querySelectorAll("[data-limit]").forEach((input) => {
      const left = Number(input.dataset.limit) - [...input.value].length;
      const note = form.querySelector(`[data-remaining="${input.name}"]`);
      if (note) {
        note.textContent = (document.documentElement.lang === "th" ? "เหลือ " : "") + left +
          (document.documentElement.lang === "th" ? " ตัวอักษร" : " characters left");
        note.classList.toggle("over", left < 0);
      }
    });
  }
  form.addEventListener("input", updatePreview);
  if (language) language.addEventListener("change", updatePreview);
  updatePreview();

  const boxes = new Map();
  form.querySelectorAll("[data-province-box]").forEach((box) => boxes.set(box.value, box));
  const chosen = form.querySelector("[data-chosen-provinces]");

  function showChosen() {
    const names = [];
    form.querySelectorAll("[data-map-picker] [data-province]").forEach((shape) => {
      const box = boxes.get(shape.dataset.province);
      const on = Boolean(box && box.checked);
      shape.classList.toggle("selected", on);
      shape.setAttribute("aria-checked", String(on));
      if (on) names.push(box.dataset.name);
    });
    if (chosen) chosen.textContent = names.length ? names.join(", ") : "—";
  }

  function toggle(shape) {
    const box = boxes.get(shape.dataset.province);
    if (!box) return;
    box.checked = !box.checked;
    box.dispatchEvent(new Event("change", { bubbles: true }));  // htmx recounts the audience
    showChosen();
  }

  form.querySelectorAll("[data-map-picker] [data-province]").forEach((shape) => {
    shape.setAttribute("tabindex", "0");
    shape.setAttribute("role", "checkbox");
    shape.addEventListener("click", () => toggle(shape));
    shape.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        toggle(shape);
      }
    });
  });
  form.addEventListener("change", showChosen);
  showChosen();
})();
