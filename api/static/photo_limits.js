// The task form checks its photos before sending (api/web/forms.py: data-max-bytes,
// data-max-files on each photo input, data-max-total on the form): a photo too large is
// named beside its field and nothing is sent, so what was typed stays on the page. The
// server checks the same again (ledger/task_photos.py, api/uploads.py).
(function () {
  function mb(bytes) { return Math.round(bytes / (1024 * 1024)); }

  function show(input, message) {
    var field = input.closest(".field");
    var note = field.querySelector(".error[data-photo-check]");
    if (!message) {
      if (note) { note.remove(); }
      field.classList.remove("has-error");
      return;
    }
    if (!note) {
      note = document.createElement("p");
      note.className = "error";
      note.setAttribute("role", "alert");
      note.setAttribute("data-photo-check", "");
      field.appendChild(note);
    }
    note.textContent = message;
    field.classList.add("has-error");
  }

  function problem(input) {
    var most = parseInt(input.getAttribute("data-max-bytes"), 10);
    var count = parseInt(input.getAttribute("data-max-files"), 10);
    var files = Array.prototype.slice.call(input.files || []);
    if (count && files.length > count) { return "最多上传 " + count + " 张照片"; }
    for (var i = 0; i < files.length; i++) {
      if (most && files[i].size > most) {
        return "第 " + (i + 1) + " 张照片（" + (files[i].name || "未命名").slice(0, 60) + "）超过 " + mb(most) +
          " MB，请压缩后重新上传";
      }
    }
    return "";
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches && input.matches("input[type=file][data-max-bytes]")) { show(input, problem(input)); }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var inputs = form.querySelectorAll ? form.querySelectorAll("input[type=file][data-max-bytes]") : [];
    var total = 0, first = null;
    Array.prototype.forEach.call(inputs, function (input) {
      var message = problem(input);
      show(input, message);
      if (message && !first) { first = input; }
      Array.prototype.forEach.call(input.files || [], function (file) { total += file.size; });
    });
    var limit = parseInt(form.getAttribute("data-max-total"), 10);
    if (!first && limit && total > limit && inputs.length) {
      first = inputs[0];
      show(first, "照片合计超过 " + mb(limit) + " MB，请减少或压缩照片后重新上传");
    }
    if (first) {
      event.preventDefault();
      first.focus();
    }
  });
})();
