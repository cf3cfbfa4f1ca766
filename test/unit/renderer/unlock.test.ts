// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { useSessionStore } from '../../../src-renderer/src/stores/session.ts';
import { useUiStore } from '../../../src-renderer/src/stores/ui.ts';
import UnlockView from '../../../src-renderer/src/views/UnlockView.vue';
import { installFakeHomopai, keySetInfo, PRESETS, sessionStatus, settle, type FakeHandlers } from './fake-homopai.ts';

let pinia: Pinia;

async function mountWith(status: ReturnType<typeof sessionStatus>, handlers: FakeHandlers = {}) {
  const fake = installFakeHomopai({ 'session.status': () => status, 'presets.list': () => PRESETS, ...handlers });
  await useSessionStore().refresh();
  const wrapper = mount(UnlockView, { global: { plugins: [pinia] } });
  await settle();
  return { wrapper, fake };
}

beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
});

describe('creating a key set', () => {
  it('shows the presets with their plain-language summaries, standard chosen', async () => {
    const { wrapper } = await mountWith(sessionStatus());
    expect(wrapper.text()).toContain('N=8192, 128-bit security, 3 levels: fast.');
    expect(wrapper.text()).toContain('N=16384, 128-bit security, 8 levels');
    expect((wrapper.get('[data-testid=preset-standard]').element as HTMLInputElement).checked).toBe(true);
  });

  it('refuses a short passphrase, a mismatched confirmation and a clinicians’ passphrase like the key holder’s, calling nothing', async () => {
    const { wrapper, fake } = await mountWith(sessionStatus());
    // The key holder creates the key set: there is no role to choose.
    expect(wrapper.find('[data-testid=role-researcher]').exists()).toBe(false);
    await wrapper.get('[data-testid=custody-passphrase]').setValue(true);
    await wrapper.get('[data-testid=passphrase]').setValue('short');
    await wrapper.get('form').trigger('submit');
    expect(wrapper.get('[data-testid=error-passphrase]').text()).toContain('at least 10 characters (5 so far)');
    expect(wrapper.get('[data-testid=passphrase]').attributes('aria-invalid')).toBe('true');

    await wrapper.get('[data-testid=passphrase]').setValue('long enough phrase');
    await wrapper.get('[data-testid=passphrase-confirm]').setValue('long enough phrasE');
    await wrapper.get('[data-testid=clinician-passphrase]').setValue('long enough phrase');
    expect(wrapper.find('[data-testid=error-passphrase]').exists()).toBe(false);
    expect(wrapper.get('[data-testid=error-confirm]').text()).toContain('differ');
    expect(wrapper.get('[data-testid=error-clinician]').text()).toContain('another passphrase than the key holder’s');
    expect(fake.callsTo('keys.create')).toEqual([]);
  });

  it('sends preset, custody and both passphrases once the form is valid', async () => {
    const unlocked = sessionStatus({ keySet: keySetInfo(), unlocked: true, role: 'researcher' });
    const { wrapper, fake } = await mountWith(sessionStatus(), { 'keys.create': () => unlocked });
    await wrapper.get('[data-testid=preset-deep]').setValue(true);
    await wrapper.get('[data-testid=custody-passphrase]').setValue(true);
    await wrapper.get('[data-testid=passphrase]').setValue('correct horse battery');
    await wrapper.get('[data-testid=passphrase-confirm]').setValue('correct horse battery');
    await wrapper.get('[data-testid=clinician-passphrase]').setValue('ward seven import key');
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(fake.callsTo('keys.create')).toEqual([
      { preset: 'deep', custody: 'passphrase', passphrase: 'correct horse battery', clinicianPassphrase: 'ward seven import key' },
    ]);
    expect(useSessionStore().unlocked).toBe(true);
  });

  it('needs no passphrase with keychain custody', async () => {
    const unlocked = sessionStatus({ keySet: keySetInfo(), unlocked: true, role: 'researcher' });
    const { wrapper, fake } = await mountWith(sessionStatus(), { 'keys.create': () => unlocked });
    expect((wrapper.get('[data-testid=custody-keychain]').element as HTMLInputElement).checked).toBe(true);
    expect(wrapper.find('[data-testid=passphrase]').exists()).toBe(false);
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(fake.callsTo('keys.create')).toEqual([{ preset: 'standard', custody: 'keychain' }]);
  });

  it('explains an unavailable keychain and preselects the passphrase', async () => {
    const { wrapper } = await mountWith(sessionStatus({ keychainAvailable: false, keychainProblem: 'no Secret Service on the D-Bus session' }));
    expect(wrapper.get('[data-testid=keychain-problem]').text()).toContain('no Secret Service on the D-Bus session');
    expect((wrapper.get('[data-testid=custody-keychain]').element as HTMLInputElement).disabled).toBe(true);
    expect((wrapper.get('[data-testid=custody-passphrase]').element as HTMLInputElement).checked).toBe(true);
    expect(wrapper.find('[data-testid=passphrase]').exists()).toBe(true);
  });
});

describe('unlocking', () => {
  it('asks the clinician for the clinicians’ passphrase and the auditor for nothing', async () => {
    const { wrapper, fake } = await mountWith(sessionStatus({ keySet: keySetInfo() }), {
      'keys.unlock': (req) => sessionStatus({ keySet: keySetInfo(), unlocked: true, role: req.role }),
    });
    await wrapper.get('[data-testid=role-clinician]').setValue(true);
    expect(wrapper.text()).toContain('The clinicians’ passphrase');
    await wrapper.get('[data-testid=role-auditor]').setValue(true);
    expect(wrapper.find('[data-testid=passphrase]').exists()).toBe(false);
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(fake.callsTo('keys.unlock')).toEqual([{ custody: 'passphrase', role: 'auditor' }]);
  });

  it('asks only for the passphrase of a passphrase key set, and says under the field that it was wrong', async () => {
    const { wrapper, fake } = await mountWith(sessionStatus({ keySet: keySetInfo() }), {
      'keys.unlock': () => {
        const e = new Error('wrong passphrase for key set A1B2-C3D4-E5F6-0718');
        e.name = 'VaultError';
        throw e;
      },
    });
    expect(wrapper.get('[data-testid=unlock-fingerprint]').text()).toBe('A1B2-C3D4-E5F6-0718');
    expect(wrapper.find('[data-testid=passphrase-confirm]').exists()).toBe(false);
    expect(wrapper.find('[data-testid=preset-standard]').exists()).toBe(false);

    await wrapper.get('[data-testid=role-researcher]').setValue(true);
    await wrapper.get('form').trigger('submit');
    expect(wrapper.get('[data-testid=error-passphrase]').text()).toContain('Enter the passphrase');

    await wrapper.get('[data-testid=passphrase]').setValue('short');
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(fake.callsTo('keys.unlock')).toEqual([{ custody: 'passphrase', passphrase: 'short', role: 'researcher' }]);
    expect(useSessionStore().unlocked).toBe(false);
    // Under the field it concerns, in words for people, and not contradicted by an emptied-field hint.
    expect(useUiStore().banners).toEqual([]);
    expect(wrapper.get('[data-testid=error-passphrase]').text()).toBe('Wrong passphrase for this key set (or its vault file was altered). Check it and try again.');
    expect((wrapper.get('[data-testid=passphrase]').element as HTMLInputElement).value).toBe('');
  });
});
