// Kiosk mode: show one item at a time, the next every few seconds; a clock in Bangkok time.
// The page reloads itself (meta refresh) for new items; nothing on it navigates away.
(function () {
  var items = document.querySelectorAll(".kiosk-item");
  var index = 0;
  var seconds = Number(new URLSearchParams(location.search).get("rotate")) || 10;
  if (items.length > 1) {
    setInterval(function () {
      items[index].classList.remove("current");
      index = (index + 1) % items.length;
      items[index].classList.add("current");
    }, seconds * 1000);
  }
  var clock = document.getElementById("kiosk-clock");
  var lang = document.documentElement.lang === "en" ? "en-GB" : "th-TH";
  function tick() {
    clock.textContent = new Date().toLocaleString(lang, { timeZone: "Asia/Bangkok", dateStyle: "medium", timeStyle: "short" });
  }
  if (clock) { tick(); setInterval(tick, 15000); }
  // No navigation away: links (an item's body could hold one) and the context menu do nothing.
  document.addEventListener("click", function (e) { if (e.target.closest("a")) e.preventDefault(); });
  document.addEventListener("contextmenu", function (e) { e.preventDefault(); });
})();
