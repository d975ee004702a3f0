// English and Italian for everything the pages show.
//
// The server writes its pages in English (they must read well without
// JavaScript, and the API speaks English); this module replaces the text
// on load.  An element says what it shows with data-i18n="key" (its text),
// data-i18n-label (its aria-label) or data-i18n-placeholder, plus
// data-i18n-args (JSON) when the sentence has parts.  Changing the
// language re-renders every such element, so dynamic text (the status
// line, an error, a tile's badge) follows without each caller redrawing.

const STRINGS = {
  en: {
    language: 'Language',
    copied: 'Copied',
    copy_invite: 'Copy invite link',

    // the create page
    'create.title': 'Create a room',
    'create.intro': 'Anyone with the invite link can join from a browser: ' +
      'no account, no app.',
    'create.label_title': 'Title',
    'create.placeholder': 'Friday drinks',
    'create.activity': 'Activity',
    'create.admission': 'Who gets in',
    'create.open': 'Anyone with the link',
    'create.knock': 'People I admit',
    'create.host_absent': 'When the host leaves',
    'create.stay_open': 'Keep the room open',
    'create.lock': 'Lock the room',
    'create.end': 'End the room',
    'create.start': 'Starts (leave empty for now)',
    'create.submit': 'Create room',
    'create.invite': 'Invite link: share it',
    'create.host': 'Host link: keep it to yourself',
    'create.copy_host': 'Copy host link',
    'create.open_host': 'Open the room as host',
    'create.unreachable': 'The server could not be reached.',
    'create.invalid': 'Check the form: {msg}',
    'create.failed': 'The room could not be created: {msg}',
    'create.audience': 'Who can find it',
    'create.aud_link': 'Only people with the link',
    'create.aud_friends': 'My people, at the top of their page',
    'create.aud_public': 'Everyone on this site',

    // the tray of rooms open to you, and "Remember me" (tray.js)
    'tray.title': 'Rooms open to you',
    'tray.empty': 'None of your people is in a room right now.',
    'tray.empty_new': 'Rooms of the people you have been in a call with ' +
      'will show here.',
    'tray.one': '1 person in the room',
    'tray.many': '{n} people in the room',
    'tray.opens': 'Opens {when}',
    'tray.knock': 'The host lets people in',
    'tray.drop_in': 'Drop in',
    'tray.view': 'See the room',
    'tray.untitled': 'Untitled room',
    'tray.people': 'Your people ({n})',
    'tray.forget': 'Forget',
    'tray.forget_all': 'Forget everyone',
    'tray.confirm_forget_all': 'Forget everyone you have been in a call ' +
      'with?',
    'join.remember': 'Remember me on this browser',

    // the room page, outside the call
    'room.open': 'This room is open.',
    'room.locked': 'The host has locked this room.',
    'room.ended': 'This room has ended.',
    'room.opens': 'This room opens on {when}.',
    'room.knock': 'The host lets people into this room: you will wait ' +
      'until they admit you.',
    'room.knock_host': 'People wait until you admit them.',
    'join.name': 'Your name',
    'join.button': 'Join',
    invite: 'Invite link',
    host_controls: 'Host controls',
    cohost_controls: 'Co-host controls',
    lock: 'Lock room',
    unlock: 'Unlock room',
    rotate: 'New invite link',
    end: 'End room',
    confirm_end: 'End the room for everyone?',

    // the call
    call: 'Call',
    you: 'You',
    you_suffix: '(you)',
    mic: 'Microphone',
    cam: 'Camera',
    share: 'Share screen',
    stop_sharing: 'Stop sharing',
    screen_of: '{name}’s screen',
    stop_share: 'Stop their share',
    'notice.share_stopped': 'The host stopped your screen share',
    'notice.share_failed': 'Your screen could not be shared: {msg}',
    leave: 'Leave',
    participants: 'Participants',
    settings: 'Settings',
    mic_device: 'Microphone device',
    cam_device: 'Camera device',
    no_device: 'None available',
    close: 'Close',
    mic_off: 'mic off',
    cam_off: 'camera off',
    video_paused: 'video paused: weak connection',
    pin: 'Pin {name}',
    mic_on: 'mic on',
    cam_on: 'camera on',
    'role.host': 'Host',
    'role.guest': 'Guest',
    'role.cohost': 'Co-host',
    make_cohost: 'Make co-host',
    remove_cohost: 'Remove co-host',
    ask_mute: 'Ask to mute',
    remove: 'Remove',
    confirm_remove: 'Remove {name} from the room? They cannot come back ' +
      'with this browser.',
    'count.alone': 'You are in the room. Nobody else is here yet.',
    'count.one': 'You are in the room with 1 other person.',
    'count.many': 'You are in the room with {n} other people.',
    click_to_hear: 'Click anywhere on the page to hear the others.',
    joining: 'Joining…',
    left: 'You left the room.',
    restarted: 'The call service restarted; joining again…',
    resync: 'The connection fell behind; joining again…',
    moving: 'The call is moving to another server; joining again…',
    lost: 'The connection to the room was lost. Press Join to try again.',
    unreachable: 'Could not reach the room. Check the link and your ' +
      'connection, then try again.',
    no_media: 'Your camera and microphone are not available; others can ' +
      'still see and hear each other, and you can see and hear them.',
    pc_failed: 'The media connection to the server failed. Leave and join ' +
      'again to retry.',
    setup_failed: 'The call could not be set up: {msg}',
    join_failed: 'Could not join: {msg}',
    device_failed: 'That device could not be used: {msg}',
    'notice.locked': 'The host locked the room',
    'notice.unlocked': 'The host unlocked the room',
    'notice.muted': 'The host asked you to mute',
    'notice.you_locked': 'You locked the room',
    'notice.you_unlocked': 'You unlocked the room',
    'notice.was_locked': 'The room was locked',
    'notice.was_unlocked': 'The room was unlocked',
    'notice.host_absent_locked': 'The room locked itself because the host ' +
      'left',
    'notice.cohost': 'You are now a co-host',
    'notice.not_cohost': 'You are no longer a co-host',

    // the lobby: a guest waiting to be let in, and the host letting in
    waiting: 'Waiting for the host to let you in…',
    'waiting.as': 'You are waiting as “{name}”. Your camera and microphone ' +
      'stay off until you are in.',
    lobby: 'Waiting',
    'lobby.count': '{n} waiting',
    admit: 'Admit',
    deny: 'Deny',
    see_all: 'See everyone',
    dismiss: 'Dismiss',
    'knock.one': '{name} is waiting to join',
    'knock.two': '{name} and 1 other person are waiting to join',
    'knock.many': '{name} and {n} other people are waiting to join',

    // refusals (docs/protocol.md) and host API errors (docs/api.md)
    'error.room_ended': 'This room has ended.',
    'error.room_ended_host_absent': 'The room ended because the host left.',
    'error.not_started': 'This room opens on {when}. Join again then.',
    'error.not_started_soon': 'This room has not opened yet.',
    'error.locked': 'The host has locked this room: nobody new can join.',
    'error.room_full': 'This room is full. Try again when someone leaves.',
    'error.media_unavailable': 'Calls are not available right now: the ' +
      'media server is not running. Try again in a moment.',
    'error.bad_offer': 'The server could not use the call setup of this ' +
      'browser. Reload the page, or try another browser.',
    'error.bad_message': 'The server did not understand this page. Reload ' +
      'it and try again.',
    'error.removed': 'You were removed from this room by the host.',
    'error.denied': 'The host did not let you in.',
    'error.lobby_full': 'Too many people are waiting to join this room. ' +
      'Try again in a while.',
    'error.not_host': 'Only the host can do that.',
    'error.share_taken': 'Someone else is sharing a screen: one at a ' +
      'time.',
    'error.no_such_participant': 'That person is no longer in the room.',
    'error.too_many_cohosts': 'This room has as many co-hosts as it can ' +
      'have.',
    'error.not_found': 'This room does not exist. Check the link.',
    'error.gone': 'The host replaced this invite link. Ask them for the ' +
      'new one.',
    'error.storage_unavailable': 'The server cannot read rooms right now. ' +
      'Try again in a moment.',
    'error.storage_busy': 'The server could not save that just now, and ' +
      'nothing changed. Try again in a moment.',
    'error.internal_error': 'Something went wrong on the server. Try again.',
    'error.wrong_host_key': 'This host link is not valid for this room.',
    'error.missing_host_key': 'This host link is not valid for this room.',
    // scheduled rooms (schedule.js)
    'schedule.opens': 'Opens {when}',
    'schedule.countdown': 'Starts in {left}',
    'schedule.days': '{n} d',
    'schedule.remind': 'Remind me',
    'schedule.unremind': 'Cancel the reminder',
    'schedule.reminder_set': 'You will be reminded a few minutes before, ' +
      'on any open page of this browser.',
    'schedule.add_calendar': 'Add to calendar',
    'schedule.subscribe': 'Calendar feed',
    'schedule.new_feed': 'New feed address',
    'schedule.feed_label': 'Subscribe to this address in your calendar ' +
      'app: it lists your scheduled rooms. Keep it to yourself; a new ' +
      'address turns this one off.',
    'schedule.count': 'People who asked to be reminded: {n}',
    'schedule.waiting': 'You will join by yourself when the room opens.',
    'schedule.reminder': '“{title}” is about to start ({when}).',
    'schedule.untitled': 'A room',
    'schedule.open': 'Open',
    'schedule.notify_title': 'A room is about to start',
    'schedule.failed': 'The reminder could not be saved: {msg}',
    copy: 'Copy',
    'error.other': 'The server refused: {msg}',
  },

  it: {
    language: 'Lingua',
    copied: 'Copiato',
    copy_invite: 'Copia il link di invito',

    'create.title': 'Crea una stanza',
    'create.intro': 'Chiunque abbia il link di invito può entrare dal ' +
      'browser: niente account, niente app.',
    'create.label_title': 'Titolo',
    'create.placeholder': 'Aperitivo del venerdì',
    'create.activity': 'Attività',
    'create.admission': 'Chi può entrare',
    'create.open': 'Chiunque abbia il link',
    'create.knock': 'Le persone che ammetto',
    'create.host_absent': "Quando l'host esce",
    'create.stay_open': 'Lascia la stanza aperta',
    'create.lock': 'Blocca la stanza',
    'create.end': 'Termina la stanza',
    'create.start': 'Inizio (lascia vuoto per iniziare subito)',
    'create.submit': 'Crea la stanza',
    'create.invite': 'Link di invito: condividilo',
    'create.host': "Link dell'host: tienilo per te",
    'create.copy_host': "Copia il link dell'host",
    'create.open_host': 'Apri la stanza come host',
    'create.unreachable': 'Il server non è raggiungibile.',
    'create.invalid': 'Controlla il modulo: {msg}',
    'create.failed': 'Non è stato possibile creare la stanza: {msg}',
    'create.audience': 'Chi può trovarla',
    'create.aud_link': 'Solo chi ha il link',
    'create.aud_friends': 'Le mie persone, in cima alla loro pagina',
    'create.aud_public': 'Tutti su questo sito',

    'tray.title': 'Stanze aperte per te',
    'tray.empty': 'Nessuna delle tue persone è in una stanza adesso.',
    'tray.empty_new': 'Qui compariranno le stanze delle persone con cui ' +
      'sei stato in una chiamata.',
    'tray.one': '1 persona nella stanza',
    'tray.many': '{n} persone nella stanza',
    'tray.opens': 'Apre il {when}',
    'tray.knock': "L'host fa entrare le persone",
    'tray.drop_in': 'Entra',
    'tray.view': 'Vedi la stanza',
    'tray.untitled': 'Stanza senza titolo',
    'tray.people': 'Le tue persone ({n})',
    'tray.forget': 'Dimentica',
    'tray.forget_all': 'Dimentica tutti',
    'tray.confirm_forget_all': 'Dimenticare tutte le persone con cui sei ' +
      'stato in una chiamata?',
    'join.remember': 'Ricordami su questo browser',

    'room.open': 'La stanza è aperta.',
    'room.locked': "L'host ha bloccato la stanza.",
    'room.ended': 'La stanza è terminata.',
    'room.opens': 'La stanza apre il {when}.',
    'room.knock': "In questa stanza è l'host a far entrare le persone: " +
      'aspetterai finché non ti ammette.',
    'room.knock_host': 'Le persone aspettano finché non le ammetti.',
    'join.name': 'Il tuo nome',
    'join.button': 'Entra',
    invite: 'Link di invito',
    host_controls: "Controlli dell'host",
    cohost_controls: 'Controlli del co-host',
    lock: 'Blocca la stanza',
    unlock: 'Sblocca la stanza',
    rotate: 'Nuovo link di invito',
    end: 'Termina la stanza',
    confirm_end: 'Terminare la stanza per tutti?',

    call: 'Chiamata',
    you: 'Tu',
    you_suffix: '(tu)',
    mic: 'Microfono',
    cam: 'Fotocamera',
    share: 'Condividi schermo',
    stop_sharing: 'Interrompi condivisione',
    screen_of: 'Schermo di {name}',
    stop_share: 'Interrompi la sua condivisione',
    'notice.share_stopped': "L'host ha interrotto la condivisione del " +
      'tuo schermo',
    'notice.share_failed': 'Non è stato possibile condividere lo ' +
      'schermo: {msg}',
    leave: 'Esci',
    participants: 'Partecipanti',
    settings: 'Impostazioni',
    mic_device: 'Dispositivo microfono',
    cam_device: 'Dispositivo fotocamera',
    no_device: 'Nessuno disponibile',
    close: 'Chiudi',
    mic_off: 'microfono spento',
    cam_off: 'fotocamera spenta',
    video_paused: 'video in pausa: connessione debole',
    pin: 'Fissa {name}',
    mic_on: 'microfono acceso',
    cam_on: 'fotocamera accesa',
    'role.host': 'Host',
    'role.guest': 'Ospite',
    'role.cohost': 'Co-host',
    make_cohost: 'Rendi co-host',
    remove_cohost: 'Togli co-host',
    ask_mute: 'Chiedi di silenziare',
    remove: 'Rimuovi',
    confirm_remove: 'Rimuovere {name} dalla stanza? Da questo browser non ' +
      'potrà rientrare.',
    'count.alone': "Sei nella stanza. Non c'è ancora nessun altro.",
    'count.one': "Sei nella stanza con un'altra persona.",
    'count.many': 'Sei nella stanza con altre {n} persone.',
    click_to_hear: 'Fai clic in un punto qualsiasi della pagina per sentire ' +
      'gli altri.',
    joining: 'Ingresso in corso…',
    left: 'Hai lasciato la stanza.',
    restarted: 'Il servizio di chiamata si è riavviato; rientro in corso…',
    resync: 'La connessione è rimasta indietro; rientro in corso…',
    moving: 'La chiamata si sposta su un altro server; rientro in corso…',
    lost: 'La connessione alla stanza si è interrotta. Premi Entra per ' +
      'riprovare.',
    unreachable: 'Impossibile raggiungere la stanza. Controlla il link e la ' +
      'connessione, poi riprova.',
    no_media: 'Fotocamera e microfono non sono disponibili: gli altri si ' +
      'vedono e si sentono comunque, e tu puoi vederli e sentirli.',
    pc_failed: 'La connessione audio e video con il server non è riuscita. ' +
      'Esci ed entra di nuovo per riprovare.',
    setup_failed: 'Impossibile avviare la chiamata: {msg}',
    join_failed: 'Impossibile entrare: {msg}',
    device_failed: 'Impossibile usare quel dispositivo: {msg}',
    'notice.locked': "L'host ha bloccato la stanza",
    'notice.unlocked': "L'host ha sbloccato la stanza",
    'notice.muted': "L'host ti ha chiesto di spegnere il microfono",
    'notice.you_locked': 'Hai bloccato la stanza',
    'notice.you_unlocked': 'Hai sbloccato la stanza',
    'notice.was_locked': 'La stanza è stata bloccata',
    'notice.was_unlocked': 'La stanza è stata sbloccata',
    'notice.host_absent_locked': "La stanza si è bloccata da sola perché " +
      "l'host è uscito",
    'notice.cohost': 'Ora sei co-host',
    'notice.not_cohost': 'Non sei più co-host',

    waiting: "In attesa che l'host ti faccia entrare…",
    'waiting.as': 'Sei in attesa come «{name}». Fotocamera e microfono ' +
      'restano spenti finché non entri.',
    lobby: 'In attesa',
    'lobby.count': '{n} in attesa',
    admit: 'Ammetti',
    deny: 'Rifiuta',
    see_all: 'Vedi tutti',
    dismiss: 'Ignora',
    'knock.one': '{name} aspetta di entrare',
    'knock.two': "{name} e un'altra persona aspettano di entrare",
    'knock.many': '{name} e altre {n} persone aspettano di entrare',

    'error.room_ended': 'La stanza è terminata.',
    'error.room_ended_host_absent': "La stanza è terminata perché l'host " +
      'è uscito.',
    'error.not_started': 'La stanza apre il {when}. Entra di nuovo a ' +
      "quell'ora.",
    'error.not_started_soon': 'La stanza non è ancora aperta.',
    'error.locked': "L'host ha bloccato la stanza: nessun altro può entrare.",
    'error.room_full': 'La stanza è piena. Riprova quando qualcuno esce.',
    'error.media_unavailable': 'Le chiamate non sono disponibili in questo ' +
      'momento: il server multimediale non è attivo. Riprova tra poco.',
    'error.bad_offer': 'Il server non può usare la configurazione di ' +
      'chiamata di questo browser. Ricarica la pagina o prova un altro ' +
      'browser.',
    'error.bad_message': 'Il server non ha capito questa pagina. Ricaricala ' +
      'e riprova.',
    'error.removed': "L'host ti ha rimosso da questa stanza.",
    'error.denied': "L'host non ti ha fatto entrare.",
    'error.lobby_full': 'Troppe persone aspettano di entrare in questa ' +
      'stanza. Riprova tra un po’.',
    'error.not_host': "Solo l'host può farlo.",
    'error.share_taken': 'Qualcun altro sta già condividendo lo schermo: ' +
      'uno alla volta.',
    'error.no_such_participant': 'Quella persona non è più nella stanza.',
    'error.too_many_cohosts': 'Questa stanza ha già tutti i co-host che ' +
      'può avere.',
    'error.not_found': 'Questa stanza non esiste. Controlla il link.',
    'error.gone': "L'host ha sostituito questo link di invito. Chiedigli " +
      'quello nuovo.',
    'error.storage_unavailable': 'Il server non riesce a leggere le stanze ' +
      'in questo momento. Riprova tra poco.',
    'error.storage_busy': 'Il server non è riuscito a salvarlo adesso, e ' +
      'non è cambiato nulla. Riprova tra poco.',
    'error.internal_error': 'Qualcosa è andato storto sul server. Riprova.',
    'error.wrong_host_key': "Questo link dell'host non vale per questa " +
      'stanza.',
    'error.missing_host_key': "Questo link dell'host non vale per questa " +
      'stanza.',
    'schedule.opens': 'Apre il {when}',
    'schedule.countdown': 'Inizia tra {left}',
    'schedule.days': '{n} g',
    'schedule.remind': 'Ricordamelo',
    'schedule.unremind': 'Annulla il promemoria',
    'schedule.reminder_set': 'Riceverai un promemoria qualche minuto ' +
      'prima, in ogni pagina aperta di questo browser.',
    'schedule.add_calendar': 'Aggiungi al calendario',
    'schedule.subscribe': 'Feed del calendario',
    'schedule.new_feed': 'Nuovo indirizzo del feed',
    'schedule.feed_label': "Iscriviti a questo indirizzo nell'app del " +
      'calendario: elenca le tue stanze programmate. Tienilo per te; un ' +
      'nuovo indirizzo disattiva questo.',
    'schedule.count': 'Persone che hanno chiesto un promemoria: {n}',
    'schedule.waiting': "Entrerai da solo quando la stanza apre.",
    'schedule.reminder': '“{title}” sta per iniziare ({when}).',
    'schedule.untitled': 'Una stanza',
    'schedule.open': 'Apri',
    'schedule.notify_title': 'Una stanza sta per iniziare',
    'schedule.failed': 'Il promemoria non è stato salvato: {msg}',
    copy: 'Copia',
    'error.other': 'Il server ha rifiutato: {msg}',
  },
};

export const LANGUAGES = { en: 'English', it: 'Italiano' };
const STORE = 'rooms.lang';

function stored() {
  try {
    return localStorage.getItem(STORE);
  } catch (e) {
    return null;          // storage off: the choice lasts for this page
  }
}

// A choice made with the switch wins; otherwise the browser's language:
// Italian for it, it-IT, it-CH…, English for everything else.
function initial() {
  const s = stored();
  if (s && STRINGS[s]) return s;
  return /^it\b/i.test(navigator.language || '') ? 'it' : 'en';
}

export let lang = initial();
const listeners = [];

export function has(key) {
  return key in STRINGS.en;
}

// Dates in the reader's language; English keeps the browser's own locale
// (an American sees 11/22/2026, a Briton 22/11/2026).
export function formatWhen(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  return lang === 'it' ? d.toLocaleString('it-IT')
    : /^en\b/i.test(navigator.language || '') ? d.toLocaleString()
      : d.toLocaleString('en-GB');
}

// t('count.many', {n: 3}).  A `when` argument is an ISO time, shown in
// the reader's language; everything else is inserted as it is.
export function t(key, args) {
  const s = (STRINGS[lang] && STRINGS[lang][key]) ?? STRINGS.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, name) => {
    if (!args || !(name in args)) return m;
    return name === 'when' ? formatWhen(args[name]) : String(args[name]);
  });
}

// Puts a translated sentence in an element, and remembers which one, so
// a language change re-renders it.  key null: empty.
export function setText(el, key, args) {
  if (!key) {
    delete el.dataset.i18n;
    delete el.dataset.i18nArgs;
    el.textContent = '';
    return;
  }
  el.dataset.i18n = key;
  if (args) el.dataset.i18nArgs = JSON.stringify(args);
  else delete el.dataset.i18nArgs;
  el.textContent = t(key, args);
}

function argsOf(el) {
  try {
    return el.dataset.i18nArgs ? JSON.parse(el.dataset.i18nArgs) : undefined;
  } catch (e) {
    return undefined;
  }
}

// Re-renders every marked element under root (the whole page by default).
export function translate(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n, argsOf(el));
  }
  for (const el of root.querySelectorAll('[data-i18n-label]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nLabel, argsOf(el)));
  }
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
}

// Called after each language change (for what is not plain marked text:
// activity labels, the page title).
export function onChange(fn) {
  listeners.push(fn);
}

export function setLanguage(l) {
  if (!STRINGS[l]) return;
  lang = l;
  try {
    localStorage.setItem(STORE, l);
  } catch (e) { /* see stored() */ }
  apply();
}

function apply() {
  document.documentElement.lang = lang;
  translate();
  for (const fn of listeners) fn(lang);
}

// Wires the page's language <select id="lang"> and renders the page in
// the chosen language.  Call once, after registering onChange listeners.
export function start() {
  const select = document.getElementById('lang');
  if (select) {
    select.value = lang;
    select.addEventListener('change', () => setLanguage(select.value));
  }
  apply();
}
