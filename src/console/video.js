// Live video: a placeholder. The live stream server (JT/T 1078, issue #26) is being built
// separately; this tab becomes its player once that lands. Nothing here streams.
import { fill, h } from './dom.js';

export function videoPage(main) {
  fill(main, h('h2', {}, 'Live video'),
    h('div', { class: 'placeholder', role: 'status', id: 'video-placeholder' },
      h('p', {}, h('strong', {}, 'Live video is not available yet.')),
      h('p', {}, 'The live stream server for dashcam channels is still being built; this tab will play a device\'s camera channels once it is part of the server. Recorded clips are on the Media page.')));
}
