(function () {
  function show(group) {
    var section = group.closest('section.scenario');
    var panel = section.querySelector('.raw-panel pre');
    var source = document.getElementById(group.getAttribute('data-raw'));
    if (!panel || !source) { return; }
    panel.textContent = source.textContent;
    section.querySelectorAll('svg.ladder .msg.selected').forEach(function (g) {
      g.classList.remove('selected');
    });
    group.classList.add('selected');
  }
  document.querySelectorAll('svg.ladder .msg').forEach(function (group) {
    group.addEventListener('click', function () { show(group); });
    group.addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); show(group); }
    });
  });
  // deep link: report.html#ID-raw-N opens that message as if it had been clicked
  var id = decodeURIComponent(location.hash.slice(1));
  if (id) {
    var target = document.querySelector('svg.ladder .msg[data-raw="' + id.replace(/["\\]/g, '') + '"]');
    if (target) { target.dispatchEvent(new MouseEvent('click', {bubbles: true})); }
  }
})();
