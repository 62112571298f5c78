"Packaging for tokenlens: everything is read from settings.ini, as in nbdev 2 projects."
from configparser import ConfigParser
import setuptools, shlex

config = ConfigParser(delimiters=['='])
config.read('settings.ini', encoding='utf-8')
cfg = config['DEFAULT']

expected = ('version description keywords author author_email license status min_python audience language '
            'lib_name lib_path user git_url').split()
missing = [o for o in expected if o not in cfg]
if missing: raise ValueError(f"settings.ini is missing: {missing}")

licenses = {'apache2': 'Apache-2.0', 'mit': 'MIT'}   # SPDX expressions (license classifiers are deprecated)
statuses = ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable', '6 - Mature', '7 - Inactive']
py_versions = '3.9 3.10 3.11 3.12 3.13'.split()

lic = licenses.get(cfg['license'].lower(), cfg['license'])
min_python = cfg['min_python']
requirements = shlex.split(cfg.get('requirements', ''))
dev_requirements = shlex.split(cfg.get('dev_requirements', ''))
train_requirements = shlex.split(cfg.get('train_requirements', ''))
torch_requirements = shlex.split(cfg.get('torch_requirements', ''))
ray_requirements = shlex.split(cfg.get('ray_requirements', ''))
serve_requirements = shlex.split(cfg.get('serve_requirements', ''))
console_scripts = cfg.get('console_scripts', '').split()

setuptools.setup(
    name=cfg['lib_name'],
    license=lic,
    classifiers=['Development Status :: ' + statuses[int(cfg['status'])],
                 'Intended Audience :: ' + cfg['audience'].title(),
                 'Natural Language :: ' + cfg['language'].title()]
        + ['Programming Language :: Python :: ' + o for o in py_versions[py_versions.index(min_python):]],
    url=cfg['git_url'],
    packages=setuptools.find_namespace_packages(include=[cfg['lib_path'], cfg['lib_path'] + '.*']),  # tokenlens.data holds data only
    include_package_data=True,
    package_data={cfg['lib_path']: ['data/*', 'data/templates/*']},
    install_requires=requirements,
    extras_require={'torch': torch_requirements, 'train': train_requirements, 'ray': ray_requirements,
                    'serve': serve_requirements,
                    'dev': dev_requirements + train_requirements + ray_requirements + serve_requirements},
    python_requires='>=' + min_python,
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    zip_safe=False,
    entry_points={'console_scripts': console_scripts, 'nbdev': [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"]},
    description=cfg['description'], keywords=cfg['keywords'],
    author=cfg['author'], author_email=cfg['author_email'], version=cfg['version'],
)
