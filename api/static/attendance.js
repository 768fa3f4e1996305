// The attendance page (api/templates/attendance.html): "全部到校" marks every pupil of the
// form present in one action; nothing is sent until the teacher submits, so single pupils
// can still be changed first. Without JavaScript the button stays hidden (an unreported day
// is already all present by default).
(function () {
  var button = document.getElementById("all-present");
  if (!button) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    var radios = document.querySelectorAll(".roll input[type=radio][value=present]");
    for (var i = 0; i < radios.length; i++) { radios[i].checked = true; }
  });
})();
